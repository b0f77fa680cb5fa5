## Main menu (reply keyboard) and the command list

menu-train = 🏋️ Обучение
menu-status = 📊 Статус
menu-datasets = 🗂 Датасеты
menu-models = 🧠 Модели
menu-recognize = 📷 Распознать
menu-logs = 📜 Логи
menu-streams = 📡 Потоки
menu-settings = ⚙️ Настройки
start =
    Привет, { $name }! Я управляю сервером обучения и распознавания.
    Обучайте модели, следите за прогрессом и проверяйте комплектность по фото — кнопками внизу.
help =
    <b>Команды</b>
    /train — обучить модель
    /status — запуски и загрузка сервера
    /stop — остановить обучение
    /logs — логи запуска
    /settings — модель, порог, комплект
    /help — эта справка

    Пришлите фото (или альбом, или картинку файлом) — распознаю его.
    Пришлите .zip (до 20 МБ) — он станет датасетом.
cmd-start = Главное меню
cmd-help = Справка
cmd-status = Статус сервера и запусков
cmd-train = Обучить модель
cmd-stop = Остановить обучение
cmd-logs = Логи запуска
cmd-settings = Настройки распознавания

## Access, errors and the connection to the server

denied = Извините, этот бот доступен только приглашённым пользователям. Ваш id: { $user_id }.
unavailable = ⚠️ Сервер недоступен. Попробуйте позже — я сообщу, когда связь вернётся.
stream-down = ⚠️ Связь с сервером потеряна, переподключаюсь… Прогресс обновится, когда сервер вернётся.
stream-up = ✅ Связь с сервером восстановлена.
api-error = ❌ Сервер ответил: { $message }
unexpected = ❌ Что-то пошло не так. Попробуйте ещё раз.
back = ◀️ Назад
cancel = ✖️ Отмена
custom = ✏️ Своё число

## Training wizard

wizard-dataset = Шаг 1/4. Выберите датасет:
wizard-no-datasets = На сервере нет датасетов. Пришлите .zip, чтобы добавить.
wizard-model =
    Шаг 2/4. Датасет: <b>{ $dataset }</b>.
    Выберите базовую модель (архитектура с нуля или обученная модель):
wizard-epochs =
    Шаг 3/4. Модель: <b>{ $model }</b>.
    Сколько эпох?
wizard-enter-epochs = Введите число эпох (1–10000):
wizard-bad-epochs = Нужно целое число от 1 до 10000. Попробуйте ещё раз:
wizard-confirm =
    Шаг 4/4. Проверьте:
    Датасет: <b>{ $dataset }</b>
    Модель: <b>{ $model }</b>
    Эпох: <b>{ $epochs }</b>
wizard-start = 🚀 Запустить
wizard-cancelled = Отменено.
wizard-created = Запуск #{ $id } создан. Слежу за прогрессом здесь.
wizard-expired = Мастер устарел, начните заново: /train

## Status, stop and resume

status-title = <b>Запуски</b>
status-none = Нет активных запусков.
status-running = ▶️ Идут
status-queued = ⏳ В очереди
status-system =
    <b>Сервер</b>
    CPU { $cpu }% · RAM { $ram_used }/{ $ram_total } ГБ ({ $ram_pct }%) · Диск { $disk_pct }%
status-no-gpu = GPU: нет
stop = ⏹ Стоп #{ $id }
resume = ▶️ Продолжить #{ $id }
stop-done = Остановка запуска #{ $id } запрошена.
stop-none = Нечего останавливать.
resume-done = Запуск #{ $id } снова в очереди.
stop-pick = Какой запуск остановить?

## A run's progress message and its end

session-status-queued = в очереди
session-status-running = идёт
session-status-completed = завершён
session-status-failed = ошибка
session-status-stopped = остановлен
session-status-cancelled = отменён
session-status-interrupted = прерван
session-epoch = Эпоха { $epoch }/{ $epochs }
session-eta = Осталось ≈ { $eta }
session-done = ✅ Запуск #{ $id } <b>{ $name }</b> завершён.
session-model = Модель #{ $id } зарегистрирована.
session-failed =
    ❌ Запуск #{ $id } <b>{ $name }</b> завершился с ошибкой:
    { $error }
session-ended = Запуск #{ $id } <b>{ $name }</b>: { $status }.

## Datasets and models

datasets-title = <b>Датасеты</b>
datasets-empty = Датасетов нет. Пришлите .zip, чтобы добавить.
datasets-hint = Пришлите .zip (YOLO-формат), чтобы добавить датасет.
dataset-uploading = Загружаю датасет «{ $name }» на сервер…
dataset-created = ✅ Датасет #{ $id } «{ $name }» добавлен: { $images } изображений, классы: { $classes }.
dataset-too-big = Файл { $size } МБ: Telegram позволяет ботам скачивать не больше 20 МБ. Загрузите его напрямую: POST /api/v1/datasets (см. API_DOCUMENTATION.md).
models-title = <b>Модели</b>
models-empty = Моделей пока нет — обучите первую: /train
model-send = 📦 Файл #{ $id }
model-use = ✅ Распознавать #{ $id }
model-too-big = Модель #{ $id } весит { $size } МБ, а Telegram принимает от ботов до 50 МБ.
model-chosen = Модель #{ $id } выбрана для распознавания.

## Recognition

recognize-hint = Пришлите фото лотка (можно альбомом) — проверю комплект. Настройки: /settings
recognize-no-model = Нет модели детекции. Обучите её (/train) или выберите в /settings.
recognize-unsupported = Это не изображение JPEG/PNG/WebP.
verdict-complete = ✅ комплект { $found }/{ $expected }
verdict-missing = ⚠️ не хватает: { $items }
verdict-extra = ➕ лишнее: { $items }
verdict-count-short = ⚠️ найдено { $found } из { $expected }
verdict-count-over = ⚠️ найдено { $found }, ожидалось { $expected }
verdict-unchecked = 🔎 найдено объектов: { $found }
recognition-summary = <b>Итог по { $n } фото:</b> { $verdict }
recognition-photo = Фото { $n }: { $verdict }
recognition-counts = Найдено: { $counts }
recognition-nothing = ничего
recognition-model = Модель #{ $id }, порог { $conf }, { $ms } мс

## Logs

logs-pick = Логи какого запуска показать?
logs-none = Запусков пока нет.
logs-empty = У запуска #{ $id } нет строк лога.
logs-page = <b>Лог #{ $id }</b>, строки { $first }–{ $last } из { $total }
logs-older = ⬅️ Раньше
logs-newer = Позже ➡️

## Recognition settings

settings-card =
    <b>Настройки распознавания</b>
    Модель: { $model }
    Порог уверенности: { $conf }
    Проверка: { $check }
settings-model-auto = последняя модель детекции
settings-check-none = нет (только подсчёт)
settings-check-count = всего объектов: { $n }
settings-check-kit = комплект { $kit }
settings-model = 🧠 Модель
settings-conf = 🎚 Порог
settings-check = 🧰 Комплект
settings-clear = 🧹 Без проверки
settings-pick-model = Выберите модель:
settings-pick-conf = Выберите порог уверенности:
settings-enter-check = Пришлите ожидаемое число объектов (например <code>11</code>) или комплект: <code>wrench=2, pliers=1</code> (или JSON).
settings-bad-check = Не понял. Число (<code>11</code>) или пары <code>имя=количество</code> через запятую.
settings-saved = Сохранено.
settings-auto = Авто

## Streams

streams-title = <b>Потоки</b>
streams-empty =
    Потоков пока нет. Администратор создаёт их через API (POST /streams), например:
    { $example }
    После этого поток появится здесь с кнопками Запуск, Стоп и Кадр.
stream-status-starting = запускается
stream-status-running = работает
stream-status-reconnecting = переподключается
stream-status-stopped = остановлен
stream-status-failed = сбой
stream-fps = { $fps } к/с
stream-lines = Линии:
stream-zones = Зоны:
stream-in-out = вход { $n_in } / выход { $n_out }
stream-start = ▶️ Запуск { $name }
stream-stop = ⏹ Стоп { $name }
stream-snapshot = 📸 { $name }
streams-refresh = 🔄 Обновить
streams-alerts-off = 🔕 Без уведомлений
streams-alerts-on = 🔔 Уведомлять
streams-alerts-now-off = Уведомления о потоках в этом чате выключены.
streams-alerts-now-on = Уведомления о потоках в этом чате включены.
stream-started = Поток «{ $name }» запущен.
stream-stopped = Поток «{ $name }» остановлен.
stream-not-running = Поток «{ $name }» не запущен, кадра нет. Сначала запустите его.
stream-no-frame = Поток «{ $name }» ещё не обработал ни одного кадра. Попробуйте чуть позже.
stream-alert-failed = ❌ Сбой потока «{ $name }»; сервер перезапускает его.
stream-alert-reconnecting = 🔄 Поток «{ $name }» потерял источник, переподключаюсь…
stream-alert-recovered = ✅ Поток «{ $name }» снова работает.
stream-alert-crossings = 🚶 «{ $name }», пересечения:
