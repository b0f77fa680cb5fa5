"""The catalogue of bot texts in Russian (the default) and English, and `t()` to look one up."""

from __future__ import annotations

DEFAULT_LANG = "ru"
LANGS = ("ru", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    "ru": {
        "menu.train": "🏋️ Обучение", "menu.status": "📊 Статус", "menu.datasets": "🗂 Датасеты",
        "menu.models": "🧠 Модели", "menu.recognize": "📷 Распознать", "menu.logs": "📜 Логи",
        "menu.settings": "⚙️ Настройки",
        "start": "Привет, {name}! Я управляю сервером обучения и распознавания.\n"
                 "Обучайте модели, следите за прогрессом и проверяйте комплектность по фото — кнопками внизу.",
        "help": "<b>Команды</b>\n/train — обучить модель\n/status — запуски и загрузка сервера\n"
                "/stop — остановить обучение\n/logs — логи запуска\n/settings — модель, порог, комплект\n"
                "/help — эта справка\n\nПришлите фото (или альбом, или картинку файлом) — распознаю его.\n"
                "Пришлите .zip (до 20 МБ) — он станет датасетом.",
        "cmd.start": "Главное меню", "cmd.help": "Справка", "cmd.status": "Статус сервера и запусков",
        "cmd.train": "Обучить модель", "cmd.stop": "Остановить обучение", "cmd.logs": "Логи запуска",
        "cmd.settings": "Настройки распознавания",
        "denied": "Извините, этот бот доступен только приглашённым пользователям. Ваш id: {user_id}.",
        "unavailable": "⚠️ Сервер недоступен. Попробуйте позже — я сообщу, когда связь вернётся.",
        "stream.down": "⚠️ Связь с сервером потеряна, переподключаюсь… Прогресс обновится, когда сервер вернётся.",
        "stream.up": "✅ Связь с сервером восстановлена.",
        "api_error": "❌ Сервер ответил: {message}",
        "unexpected": "❌ Что-то пошло не так. Попробуйте ещё раз.",
        "back": "◀️ Назад", "cancel": "✖️ Отмена", "custom": "✏️ Своё число",
        "wizard.dataset": "Шаг 1/4. Выберите датасет:",
        "wizard.no_datasets": "На сервере нет датасетов. Пришлите .zip, чтобы добавить.",
        "wizard.model": "Шаг 2/4. Датасет: <b>{dataset}</b>.\nВыберите базовую модель (архитектура с нуля или обученная модель):",
        "wizard.epochs": "Шаг 3/4. Модель: <b>{model}</b>.\nСколько эпох?",
        "wizard.enter_epochs": "Введите число эпох (1–10000):",
        "wizard.bad_epochs": "Нужно целое число от 1 до 10000. Попробуйте ещё раз:",
        "wizard.confirm": "Шаг 4/4. Проверьте:\nДатасет: <b>{dataset}</b>\nМодель: <b>{model}</b>\nЭпох: <b>{epochs}</b>",
        "wizard.start": "🚀 Запустить", "wizard.cancelled": "Отменено.",
        "wizard.created": "Запуск #{id} создан. Слежу за прогрессом здесь.",
        "wizard.expired": "Мастер устарел, начните заново: /train",
        "status.title": "<b>Запуски</b>", "status.none": "Нет активных запусков.",
        "status.running": "▶️ Идут", "status.queued": "⏳ В очереди",
        "status.system": "<b>Сервер</b>\nCPU {cpu:.0f}% · RAM {ram_used:.1f}/{ram_total:.1f} ГБ ({ram_pct:.0f}%) · "
                         "Диск {disk_pct:.0f}%",
        "status.no_gpu": "GPU: нет", "stop": "⏹ Стоп #{id}", "resume": "▶️ Продолжить #{id}",
        "stop.done": "Остановка запуска #{id} запрошена.", "stop.none": "Нечего останавливать.",
        "resume.done": "Запуск #{id} снова в очереди.",
        "stop.pick": "Какой запуск остановить?",
        "session.status.queued": "в очереди", "session.status.running": "идёт",
        "session.status.completed": "завершён", "session.status.failed": "ошибка",
        "session.status.stopped": "остановлен", "session.status.cancelled": "отменён",
        "session.status.interrupted": "прерван",
        "session.epoch": "Эпоха {epoch}/{epochs}", "session.eta": "Осталось ≈ {eta}",
        "session.done": "✅ Запуск #{id} <b>{name}</b> завершён.",
        "session.model": "Модель #{id} зарегистрирована.",
        "session.failed": "❌ Запуск #{id} <b>{name}</b> завершился с ошибкой:\n{error}",
        "session.ended": "Запуск #{id} <b>{name}</b>: {status}.",
        "datasets.title": "<b>Датасеты</b>", "datasets.empty": "Датасетов нет. Пришлите .zip, чтобы добавить.",
        "datasets.hint": "Пришлите .zip (YOLO-формат), чтобы добавить датасет.",
        "dataset.uploading": "Загружаю датасет «{name}» на сервер…",
        "dataset.created": "✅ Датасет #{id} «{name}» добавлен: {images} изображений, классы: {classes}.",
        "dataset.too_big": "Файл {size} МБ: Telegram позволяет ботам скачивать не больше 20 МБ. "
                           "Загрузите его напрямую: POST /api/v1/datasets (см. API_DOCUMENTATION.md).",
        "models.title": "<b>Модели</b>", "models.empty": "Моделей пока нет — обучите первую: /train",
        "model.send": "📦 Файл #{id}", "model.use": "✅ Распознавать #{id}",
        "model.too_big": "Модель #{id} весит {size} МБ, а Telegram принимает от ботов до 50 МБ.",
        "model.chosen": "Модель #{id} выбрана для распознавания.",
        "recognize.hint": "Пришлите фото лотка (можно альбомом) — проверю комплект. Настройки: /settings",
        "recognize.no_model": "Нет модели детекции. Обучите её (/train) или выберите в /settings.",
        "recognize.unsupported": "Это не изображение JPEG/PNG/WebP.",
        "verdict.complete": "✅ комплект {found}/{expected}", "verdict.complete_kit": "✅ комплект",
        "verdict.missing": "⚠️ не хватает: {items}", "verdict.extra": "➕ лишнее: {items}",
        "verdict.count_short": "⚠️ найдено {found} из {expected}",
        "verdict.count_over": "⚠️ найдено {found}, ожидалось {expected}",
        "verdict.unchecked": "🔎 найдено объектов: {found}",
        "recognition.summary": "<b>Итог по {n} фото:</b> {verdict}", "recognition.photo": "Фото {n}: {verdict}",
        "recognition.counts": "Найдено: {counts}", "recognition.nothing": "ничего",
        "recognition.model": "Модель #{id}, порог {conf}, {ms:.0f} мс",
        "logs.pick": "Логи какого запуска показать?", "logs.none": "Запусков пока нет.",
        "logs.empty": "У запуска #{id} нет строк лога.",
        "logs.page": "<b>Лог #{id}</b>, строки {first}–{last} из {total}",
        "logs.older": "⬅️ Раньше", "logs.newer": "Позже ➡️",
        "settings.card": "<b>Настройки распознавания</b>\nМодель: {model}\nПорог уверенности: {conf}\nПроверка: {check}",
        "settings.model_auto": "последняя модель детекции", "settings.check_none": "нет (только подсчёт)",
        "settings.check_count": "всего объектов: {n}", "settings.check_kit": "комплект {kit}",
        "settings.model": "🧠 Модель", "settings.conf": "🎚 Порог", "settings.check": "🧰 Комплект",
        "settings.clear": "🧹 Без проверки", "settings.pick_model": "Выберите модель:",
        "settings.pick_conf": "Выберите порог уверенности:",
        "settings.enter_check": "Пришлите ожидаемое число объектов (например <code>11</code>) или комплект: "
                                "<code>wrench=2, pliers=1</code> (или JSON).",
        "settings.bad_check": "Не понял. Число (<code>11</code>) или пары <code>имя=количество</code> через запятую.",
        "settings.saved": "Сохранено.", "settings.auto": "Авто",
    },
    "en": {
        "menu.train": "🏋️ Train", "menu.status": "📊 Status", "menu.datasets": "🗂 Datasets",
        "menu.models": "🧠 Models", "menu.recognize": "📷 Recognize", "menu.logs": "📜 Logs",
        "menu.settings": "⚙️ Settings",
        "start": "Hi, {name}! I drive the training and recognition server.\n"
                 "Train models, watch progress and check kits from photos with the buttons below.",
        "help": "<b>Commands</b>\n/train — train a model\n/status — runs and server load\n"
                "/stop — stop a training run\n/logs — a run's log\n/settings — model, threshold, kit\n"
                "/help — this help\n\nSend a photo (or an album, or an image as a file) and I recognize it.\n"
                "Send a .zip (up to 20 MB) and it becomes a dataset.",
        "cmd.start": "Main menu", "cmd.help": "Help", "cmd.status": "Server and runs",
        "cmd.train": "Train a model", "cmd.stop": "Stop a run", "cmd.logs": "A run's log",
        "cmd.settings": "Recognition settings",
        "denied": "Sorry, this bot is for invited users only. Your id: {user_id}.",
        "unavailable": "⚠️ The server is unavailable. Try again later — I will say when it is back.",
        "stream.down": "⚠️ Lost the connection to the server, reconnecting… Progress resumes when it is back.",
        "stream.up": "✅ The server is reachable again.",
        "api_error": "❌ The server said: {message}",
        "unexpected": "❌ Something went wrong. Please try again.",
        "back": "◀️ Back", "cancel": "✖️ Cancel", "custom": "✏️ Custom",
        "wizard.dataset": "Step 1/4. Choose a dataset:",
        "wizard.no_datasets": "The server has no datasets. Send a .zip to add one.",
        "wizard.model": "Step 2/4. Dataset: <b>{dataset}</b>.\n"
                        "Choose a base model (an architecture from scratch or a trained model):",
        "wizard.epochs": "Step 3/4. Model: <b>{model}</b>.\nHow many epochs?",
        "wizard.enter_epochs": "Type the number of epochs (1–10000):",
        "wizard.bad_epochs": "A whole number from 1 to 10000, please. Try again:",
        "wizard.confirm": "Step 4/4. Check:\nDataset: <b>{dataset}</b>\nModel: <b>{model}</b>\nEpochs: <b>{epochs}</b>",
        "wizard.start": "🚀 Start", "wizard.cancelled": "Cancelled.",
        "wizard.created": "Run #{id} created. I follow its progress here.",
        "wizard.expired": "This wizard has expired, start again: /train",
        "status.title": "<b>Runs</b>", "status.none": "No active runs.",
        "status.running": "▶️ Running", "status.queued": "⏳ Queued",
        "status.system": "<b>Server</b>\nCPU {cpu:.0f}% · RAM {ram_used:.1f}/{ram_total:.1f} GB ({ram_pct:.0f}%) · "
                         "Disk {disk_pct:.0f}%",
        "status.no_gpu": "GPU: none", "stop": "⏹ Stop #{id}", "resume": "▶️ Resume #{id}",
        "stop.done": "Stop of run #{id} requested.", "stop.none": "Nothing to stop.",
        "resume.done": "Run #{id} is queued again.",
        "stop.pick": "Which run should stop?",
        "session.status.queued": "queued", "session.status.running": "running",
        "session.status.completed": "completed", "session.status.failed": "failed",
        "session.status.stopped": "stopped", "session.status.cancelled": "cancelled",
        "session.status.interrupted": "interrupted",
        "session.epoch": "Epoch {epoch}/{epochs}", "session.eta": "ETA ≈ {eta}",
        "session.done": "✅ Run #{id} <b>{name}</b> completed.",
        "session.model": "Model #{id} registered.",
        "session.failed": "❌ Run #{id} <b>{name}</b> failed:\n{error}",
        "session.ended": "Run #{id} <b>{name}</b>: {status}.",
        "datasets.title": "<b>Datasets</b>", "datasets.empty": "No datasets. Send a .zip to add one.",
        "datasets.hint": "Send a .zip (YOLO format) to add a dataset.",
        "dataset.uploading": "Uploading dataset “{name}” to the server…",
        "dataset.created": "✅ Dataset #{id} “{name}” added: {images} images, classes: {classes}.",
        "dataset.too_big": "The file is {size} MB: Telegram lets bots download at most 20 MB. "
                           "Upload it directly: POST /api/v1/datasets (see API_DOCUMENTATION.md).",
        "models.title": "<b>Models</b>", "models.empty": "No models yet — train one: /train",
        "model.send": "📦 File #{id}", "model.use": "✅ Recognize with #{id}",
        "model.too_big": "Model #{id} is {size} MB; Telegram accepts at most 50 MB from bots.",
        "model.chosen": "Model #{id} chosen for recognition.",
        "recognize.hint": "Send a photo of the tray (an album works too) and I check the kit. Settings: /settings",
        "recognize.no_model": "No detection model. Train one (/train) or choose one in /settings.",
        "recognize.unsupported": "This is not a JPEG/PNG/WebP image.",
        "verdict.complete": "✅ complete {found}/{expected}", "verdict.complete_kit": "✅ complete",
        "verdict.missing": "⚠️ missing: {items}", "verdict.extra": "➕ extra: {items}",
        "verdict.count_short": "⚠️ found {found} of {expected}",
        "verdict.count_over": "⚠️ found {found}, expected {expected}",
        "verdict.unchecked": "🔎 objects found: {found}",
        "recognition.summary": "<b>Summary of {n} photos:</b> {verdict}", "recognition.photo": "Photo {n}: {verdict}",
        "recognition.counts": "Found: {counts}", "recognition.nothing": "nothing",
        "recognition.model": "Model #{id}, threshold {conf}, {ms:.0f} ms",
        "logs.pick": "Which run's log?", "logs.none": "No runs yet.",
        "logs.empty": "Run #{id} has no log lines.",
        "logs.page": "<b>Log #{id}</b>, lines {first}–{last} of {total}",
        "logs.older": "⬅️ Older", "logs.newer": "Newer ➡️",
        "settings.card": "<b>Recognition settings</b>\nModel: {model}\nConfidence threshold: {conf}\nCheck: {check}",
        "settings.model_auto": "the newest detection model", "settings.check_none": "none (count only)",
        "settings.check_count": "total objects: {n}", "settings.check_kit": "kit {kit}",
        "settings.model": "🧠 Model", "settings.conf": "🎚 Threshold", "settings.check": "🧰 Kit",
        "settings.clear": "🧹 No check", "settings.pick_model": "Choose a model:",
        "settings.pick_conf": "Choose the confidence threshold:",
        "settings.enter_check": "Send the expected number of objects (e.g. <code>11</code>) or a kit: "
                                "<code>wrench=2, pliers=1</code> (or JSON).",
        "settings.bad_check": "I did not get that. A number (<code>11</code>) or <code>name=count</code> pairs, comma-separated.",
        "settings.saved": "Saved.", "settings.auto": "Auto",
    },
}


def lang_of(language_code: str | None) -> str:
    """English for English-speaking users, Russian for everyone else (the default)."""
    return "en" if language_code and language_code.lower().startswith("en") else DEFAULT_LANG


def t(lang: str, key: str, **values: object) -> str:
    text = CATALOGUE.get(lang, CATALOGUE[DEFAULT_LANG]).get(key) or CATALOGUE[DEFAULT_LANG][key]
    return text.format(**values) if values else text


def all_translations(key: str) -> set[str]:
    """Every language's text for `key`: reply-keyboard buttons match in either language."""
    return {CATALOGUE[lang][key] for lang in LANGS}
