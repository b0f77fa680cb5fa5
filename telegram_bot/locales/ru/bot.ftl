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
    /runs — прошлые запуски (график, логи, продолжить, удалить)
    /queue — очередь (приоритет, отмена)
    /history — мои распознавания
    /ask — вопрос ИИ-ассистенту
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
cmd-runs = Прошлые запуски
cmd-queue = Очередь
cmd-history = Мои распознавания
cmd-ask = Спросить ИИ-ассистента
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
status-cluster = <b>Кластер Ray</b>: узлов { $nodes }, запусков одновременно { $capacity }
status-cluster-node = • { $node }{ $head }: CPU свободно { $cpu_free }/{ $cpus } · GPU { $gpu_free }/{ $gpus } · запуски { $runs }
status-cluster-down = <b>Кластер Ray</b>: { $state } — запуски ждут в очереди. { $error }
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

## Notifications, models, past runs, queue, history (issue 16)

settings-notify = 🔔 Уведомления
settings-notify-line = Уведомления: { $mode }
settings-pick-notify =
    О каких запусках сообщать в этот чат?
    «Все запуски»: о каждом, кто бы его ни начал (curl, скрипт, другой чат), и оповещения потоков.
    «Мои запуски»: только ваши (оповещения потоков — после открытия «Потоков»). «Никаких»: ничего, и потоки тоже.
notify-all = все запуски
notify-mine = мои запуски
notify-none = никаких
notify-off-hint = Уведомления в этом чате выключены, поэтому прогресс здесь не показываю. Изменить: /settings.
confirm-yes = ✅ Да
confirm-no = ✖️ Нет
confirm-cancelled = Отменено, ничего не изменено.
page-newer = ⬅️ Новее
page-older = Старше ➡️
model-details = 🔎 #{ $id }
model-classes = Классы: { $classes }
model-from-run = Из запуска #{ $id }
model-uploaded = Загруженные веса
model-evaluate = 📏 Оценить
model-export = 📤 Экспорт ONNX
model-delete = 🗑 Удалить
model-delete-ask = Удалить модель #{ $id } «{ $name }»? Это необратимо.
model-deleted = 🗑 Модель #{ $id } удалена.
model-uploading = Загружаю модель «{ $name }» на сервер…
model-uploaded-done = ✅ Модель #{ $id } «{ $name }» зарегистрирована ({ $task }), классы: { $classes }.
model-upload-too-big = Файл { $size } МБ: Telegram даёт ботам скачать не больше 20 МБ. Загрузите напрямую: POST /api/v1/models (см. API_DOCUMENTATION.md).
eval-pick = На каком датасете оценить модель #{ $id }?
eval-no-datasets = Нет датасета для задачи модели #{ $id }. Пришлите .zip, чтобы добавить.
eval-title = 📏 <b>Оценка #{ $id }</b>: модель #{ $model } на { $dataset }/{ $split }
eval-failed = ❌ { $status }.
export-done = ONNX-экспорт модели #{ $id } ({ $imgsz } px, { $size } МБ).
export-too-big =
    ONNX-экспорт модели #{ $id } весит { $size } МБ; Telegram принимает от ботов не больше 50 МБ. Скачайте так:
    <code>{ $curl }</code>
runs-open = 📚 Прошлые запуски
runs-title = <b>Запуски</b> { $first }–{ $last } из { $total }, сначала новые
runs-none = Запусков пока нет.
run-chart = 📈 График
run-chart-caption = Запуск #{ $id }: потери и метрики по эпохам.
run-logs = 📜 Логи
run-delete = 🗑 Удалить
run-delete-ask = Удалить запуск #{ $id } с метриками, логами и файлами? Созданная им модель останется.
run-deleted = 🗑 Запуск #{ $id } удалён.
queue-open = 🔢 Очередь
queue-title = <b>Очередь</b>
queue-empty = Ничего не идёт и не ждёт.
queue-priority = приоритет { $priority }
queue-up = ⬆️ #{ $id }
queue-down = ⬇️ #{ $id }
queue-cancel = ✖️ Отменить #{ $id }
queue-moved = Запуск #{ $id }: приоритет { $priority }.
queue-cannot-move = Запуск #{ $id } дальше в эту сторону не сдвинуть.
queue-cancel-ask = Отменить запуск #{ $id }? Ждущий будет снят, идущий остановится.
queue-cancelled = Запуск #{ $id }: { $status }.
history-open = 🗂 Моя история
history-summary-open = 📈 Моя сводка
history-title = <b>Мои распознавания</b> { $first }–{ $last } из { $total }, сначала новые
history-none = Распознаваний пока нет. Пришлите фото.
history-photos = фото: { $n }
history-summary = <b>Мои распознавания</b>: { $count }, комплектных { $complete }, некомплектных { $incomplete }, без проверки { $unchecked }.
explain = 🔥 Почему?
explain-n = 🔥 Почему? { $n }
explain-caption = Почему? Фото { $n } распознавания #{ $id }: тёплые цвета — куда смотрела модель.

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

## Чат с ИИ

ai-menu = 💬 Чат с ИИ
ai-intro =
    💬 Спрашивайте о сервере обычными словами: «что сейчас обучается?», «какая модель лучше на shapes?», «почему упал запуск 12?», «запусти 30 эпох yolo11n на shapes».
    Я смотрю данные на сервере; запуск или остановка обучения ждут вашего подтверждения. /ask работает откуда угодно, /start выходит из этого чата.
ai-not-configured =
    💬 Для чата с ИИ нужна языковая модель на OpenAI-совместимом сервере (Ollama, сервер llama.cpp, vLLM, LM Studio), а бот к ней пока не подключён.
    С Ollama: <code>ollama pull qwen2.5:7b</code> (сервер отвечает на http://127.0.0.1:11434/v1), затем в .env бота:
    <code>LLM_BASE_URL=http://127.0.0.1:11434/v1</code>
    <code>LLM_MODEL=qwen2.5:7b</code>
    и перезапустите бота. С llama.cpp: <code>llama-server -m model.gguf --jinja --port 8080</code> и LLM_BASE_URL=http://127.0.0.1:8080/v1. LLM_API_KEY — только если сервер требует ключ. Подробнее в README (Telegram bot).
ai-ask-usage = Напишите вопрос после команды, например <code>/ask что сейчас обучается?</code>
ai-thinking = 💭 Думаю…
ai-busy = ⏳ Ещё отвечаю на предыдущий вопрос, минуту.
ai-using-tool = 🔧 Смотрю: { $tool }…
ai-clear = 🧹 Очистить
ai-cleared = Разговор очищен.
ai-confirm = ✅ Подтвердить
ai-cancel = ✖️ Отмена
ai-confirm-start =
    <b>Запущу обучение:</b> датасет { $dataset } ({ $task }), модель { $model }, эпох: { $epochs }.
    Подтвердить?
ai-confirm-stop = <b>Остановлю запуск #{ $id }</b> «{ $name }» (сейчас { $status }). Подтвердить?
ai-started = ✅ Запуск #{ $id } «{ $name }» создан. Слежу за прогрессом здесь.
ai-stopped = ⏹ Запуск #{ $id }: остановка запрошена (сейчас { $status }).
ai-cancelled = ✖️ Отменено, ничего не сделано.
ai-refused = ❌ Сервер отказал: { $message }
ai-expired = Это предложение больше не ждёт (уже выполнено или бот перезапускался). Спросите ещё раз.
ai-timeout = ⌛ Языковая модель не ответила за { $seconds } с. Проверьте, что сервер модели работает, и спросите снова.
ai-unreachable = ⚠️ Нет ответа от сервера языковой модели: { $reason }
ai-garbage = ⚠️ Ответ языковой модели не в формате чата OpenAI, прочитать его не могу ({ $reason }). Проверьте LLM_BASE_URL и LLM_MODEL.
ai-too-many-steps = ⚠️ Языковая модель всё искала данные и так и не ответила. Попробуйте спросить точнее.
