## Main menu (reply keyboard) and the command list

menu-train = 🏋️ Train
menu-status = 📊 Status
menu-datasets = 🗂 Datasets
menu-models = 🧠 Models
menu-recognize = 📷 Recognize
menu-logs = 📜 Logs
menu-streams = 📡 Streams
menu-settings = ⚙️ Settings
start =
    Hi, { $name }! I drive the training and recognition server.
    Train models, watch progress and check kits from photos with the buttons below.
help =
    <b>Commands</b>
    /train — train a model
    /status — runs and server load
    /stop — stop a training run
    /logs — a run's log
    /runs — past runs (chart, logs, resume, delete)
    /queue — the queue (priority, cancel)
    /history — my recognitions
    /ask — a question for the AI assistant
    /settings — model, threshold, kit
    /help — this help

    Send a photo (or an album, or an image as a file) and I recognize it.
    Send a .zip (up to 20 MB) and it becomes a dataset.
cmd-start = Main menu
cmd-help = Help
cmd-status = Server and runs
cmd-train = Train a model
cmd-stop = Stop a run
cmd-logs = A run's log
cmd-runs = Past runs
cmd-queue = The queue
cmd-history = My recognitions
cmd-ask = Ask the AI assistant
cmd-settings = Recognition settings

## Access, errors and the connection to the server

denied = Sorry, this bot is for invited users only. Your id: { $user_id }.
unavailable = ⚠️ The server is unavailable. Try again later — I will say when it is back.
stream-down = ⚠️ Lost the connection to the server, reconnecting… Progress resumes when it is back.
stream-up = ✅ The server is reachable again.
api-error = ❌ The server said: { $message }
unexpected = ❌ Something went wrong. Please try again.
back = ◀️ Back
cancel = ✖️ Cancel
custom = ✏️ Custom

## Training wizard

wizard-dataset = Step 1/4. Choose a dataset:
wizard-no-datasets = The server has no datasets. Send a .zip to add one.
wizard-model =
    Step 2/4. Dataset: <b>{ $dataset }</b>.
    Choose a base model (an architecture from scratch or a trained model):
wizard-epochs =
    Step 3/4. Model: <b>{ $model }</b>.
    How many epochs?
wizard-enter-epochs = Type the number of epochs (1–10000):
wizard-bad-epochs = A whole number from 1 to 10000, please. Try again:
wizard-confirm =
    Step 4/4. Check:
    Dataset: <b>{ $dataset }</b>
    Model: <b>{ $model }</b>
    Epochs: <b>{ $epochs }</b>
wizard-start = 🚀 Start
wizard-cancelled = Cancelled.
wizard-created = Run #{ $id } created. I follow its progress here.
wizard-expired = This wizard has expired, start again: /train

## Status, stop and resume

status-title = <b>Runs</b>
status-none = No active runs.
status-running = ▶️ Running
status-queued = ⏳ Queued
status-system =
    <b>Server</b>
    CPU { $cpu }% · RAM { $ram_used }/{ $ram_total } GB ({ $ram_pct }%) · Disk { $disk_pct }%
status-no-gpu = GPU: none
status-cluster = <b>Ray cluster</b>: { $nodes } nodes, { $capacity } runs at once
status-cluster-node = • { $node }{ $head }: CPU { $cpu_free }/{ $cpus } free · GPU { $gpu_free }/{ $gpus } · runs { $runs }
status-cluster-down = <b>Ray cluster</b>: { $state } — runs wait in the queue. { $error }
stop = ⏹ Stop #{ $id }
resume = ▶️ Resume #{ $id }
stop-done = Stop of run #{ $id } requested.
stop-none = Nothing to stop.
resume-done = Run #{ $id } is queued again.
stop-pick = Which run should stop?

## A run's progress message and its end

session-status-queued = queued
session-status-running = running
session-status-completed = completed
session-status-failed = failed
session-status-stopped = stopped
session-status-cancelled = cancelled
session-status-interrupted = interrupted
session-epoch = Epoch { $epoch }/{ $epochs }
session-eta = ETA ≈ { $eta }
session-done = ✅ Run #{ $id } <b>{ $name }</b> completed.
session-model = Model #{ $id } registered.
session-failed =
    ❌ Run #{ $id } <b>{ $name }</b> failed:
    { $error }
session-ended = Run #{ $id } <b>{ $name }</b>: { $status }.

## Datasets and models

datasets-title = <b>Datasets</b>
datasets-empty = No datasets. Send a .zip to add one.
datasets-hint = Send a .zip (YOLO format) to add a dataset.
dataset-uploading = Uploading dataset “{ $name }” to the server…
dataset-created = ✅ Dataset #{ $id } “{ $name }” added: { $images } images, classes: { $classes }.
dataset-too-big = The file is { $size } MB: Telegram lets bots download at most 20 MB. Upload it directly: POST /api/v1/datasets (see API_DOCUMENTATION.md).
models-title = <b>Models</b>
models-empty = No models yet — train one: /train
model-send = 📦 File #{ $id }
model-use = ✅ Recognize with #{ $id }
model-too-big = Model #{ $id } is { $size } MB; Telegram accepts at most 50 MB from bots.
model-chosen = Model #{ $id } chosen for recognition.

## Recognition

recognize-hint = Send a photo of the tray (an album works too) and I check the kit. Settings: /settings
recognize-no-model = No detection model. Train one (/train) or choose one in /settings.
recognize-unsupported = This is not a JPEG/PNG/WebP image.
verdict-complete = ✅ complete { $found }/{ $expected }
verdict-missing = ⚠️ missing: { $items }
verdict-extra = ➕ extra: { $items }
verdict-count-short = ⚠️ found { $found } of { $expected }
verdict-count-over = ⚠️ found { $found }, expected { $expected }
verdict-unchecked = 🔎 objects found: { $found }
recognition-summary = <b>Summary of { $n } photos:</b> { $verdict }
recognition-photo = Photo { $n }: { $verdict }
recognition-counts = Found: { $counts }
recognition-nothing = nothing
recognition-model = Model #{ $id }, threshold { $conf }, { $ms } ms

## Logs

logs-pick = Which run's log?
logs-none = No runs yet.
logs-empty = Run #{ $id } has no log lines.
logs-page = <b>Log #{ $id }</b>, lines { $first }–{ $last } of { $total }
logs-older = ⬅️ Older
logs-newer = Newer ➡️

## Recognition settings

settings-card =
    <b>Recognition settings</b>
    Model: { $model }
    Confidence threshold: { $conf }
    Check: { $check }
settings-model-auto = the newest detection model
settings-check-none = none (count only)
settings-check-count = total objects: { $n }
settings-check-kit = kit { $kit }
settings-model = 🧠 Model
settings-conf = 🎚 Threshold
settings-check = 🧰 Kit
settings-clear = 🧹 No check
settings-pick-model = Choose a model:
settings-pick-conf = Choose the confidence threshold:
settings-enter-check = Send the expected number of objects (e.g. <code>11</code>) or a kit: <code>wrench=2, pliers=1</code> (or JSON).
settings-bad-check = I did not get that. A number (<code>11</code>) or <code>name=count</code> pairs, comma-separated.
settings-saved = Saved.
settings-auto = Auto

## Notifications, models, past runs, queue, history (issue 16)

settings-notify = 🔔 Notifications
settings-notify-line = Notifications: { $mode }
settings-pick-notify =
    Which runs should this chat hear about?
    “All runs”: every run, whoever started it (curl, a script, another chat), and stream alerts.
    “Runs I started”: yours only (stream alerts once you open Streams). “None”: nothing, stream alerts included.
notify-all = all runs
notify-mine = runs I started
notify-none = none
notify-off-hint = Notifications are off in this chat, so I do not post its progress. Change it in /settings.
confirm-yes = ✅ Yes
confirm-no = ✖️ No
confirm-cancelled = Cancelled, nothing was changed.
page-newer = ⬅️ Newer
page-older = Older ➡️
model-details = 🔎 #{ $id }
model-classes = Classes: { $classes }
model-from-run = From run #{ $id }
model-uploaded = Uploaded weights
model-evaluate = 📏 Evaluate
model-export = 📤 Export ONNX
model-delete = 🗑 Delete
model-delete-ask = Delete model #{ $id } “{ $name }”? This cannot be undone.
model-deleted = 🗑 Model #{ $id } deleted.
model-uploading = Uploading model “{ $name }” to the server…
model-uploaded-done = ✅ Model #{ $id } “{ $name }” registered ({ $task }), classes: { $classes }.
model-upload-too-big = The file is { $size } MB: Telegram lets bots download at most 20 MB. Upload it directly: POST /api/v1/models (see API_DOCUMENTATION.md).
eval-pick = Evaluate model #{ $id } on which dataset?
eval-no-datasets = No dataset of model #{ $id }'s task. Send a .zip to add one.
eval-title = 📏 <b>Evaluation #{ $id }</b>: model #{ $model } on { $dataset }/{ $split }
eval-failed = ❌ { $status }.
export-done = ONNX export of model #{ $id } ({ $imgsz } px, { $size } MB).
export-too-big =
    The ONNX export of model #{ $id } is { $size } MB; Telegram accepts at most 50 MB from bots. Download it with:
    <code>{ $curl }</code>
runs-open = 📚 Past runs
runs-title = <b>Runs</b> { $first }–{ $last } of { $total }, newest first
runs-none = No runs yet.
run-chart = 📈 Chart
run-chart-caption = Run #{ $id }: losses and metrics per epoch.
run-logs = 📜 Logs
run-delete = 🗑 Delete
run-delete-ask = Delete run #{ $id } with its metrics, logs and files? The model it produced stays.
run-deleted = 🗑 Run #{ $id } deleted.
queue-open = 🔢 Queue
queue-title = <b>Queue</b>
queue-empty = Nothing running or queued.
queue-priority = priority { $priority }
queue-up = ⬆️ #{ $id }
queue-down = ⬇️ #{ $id }
queue-cancel = ✖️ Cancel #{ $id }
queue-moved = Run #{ $id }: priority { $priority }.
queue-cannot-move = Run #{ $id } cannot move further that way.
queue-cancel-ask = Cancel run #{ $id }? A queued run is dropped, a running one stops.
queue-cancelled = Run #{ $id }: { $status }.
history-open = 🗂 My history
history-summary-open = 📈 My summary
history-title = <b>My recognitions</b> { $first }–{ $last } of { $total }, newest first
history-none = You have no recognitions yet. Send a photo.
history-photos = { $n } photo(s)
history-summary = <b>My recognitions</b>: { $count }, complete { $complete }, incomplete { $incomplete }, unchecked { $unchecked }.
explain = 🔥 Why?
explain-n = 🔥 Why? { $n }
explain-caption = Why? Photo { $n } of recognition #{ $id }: warm colours show what the model looked at.

## Streams

streams-title = <b>Streams</b>
streams-empty =
    No streams yet. An admin creates one with the API (POST /streams), for example:
    { $example }
    Then it appears here with Start, Stop and Snapshot buttons.
stream-status-starting = starting
stream-status-running = running
stream-status-reconnecting = reconnecting
stream-status-stopped = stopped
stream-status-failed = failed
stream-fps = { $fps } fps
stream-lines = Lines:
stream-zones = Zones:
stream-in-out = in { $n_in } / out { $n_out }
stream-start = ▶️ Start { $name }
stream-stop = ⏹ Stop { $name }
stream-snapshot = 📸 { $name }
streams-refresh = 🔄 Refresh
streams-alerts-off = 🔕 Mute alerts
streams-alerts-on = 🔔 Alerts on
streams-alerts-now-off = Stream alerts are off in this chat.
streams-alerts-now-on = Stream alerts are on in this chat.
stream-started = Stream “{ $name }” started.
stream-stopped = Stream “{ $name }” stopped.
stream-not-running = Stream “{ $name }” is not running, so there is no frame. Start it first.
stream-no-frame = Stream “{ $name }” has not processed a frame yet. Try again in a moment.
stream-alert-failed = ❌ Stream “{ $name }” failed; the server restarts it.
stream-alert-reconnecting = 🔄 Stream “{ $name }” lost its source, reconnecting…
stream-alert-recovered = ✅ Stream “{ $name }” is running again.
stream-alert-crossings = 🚶 “{ $name }” crossings:

## Chat with AI

ai-menu = 💬 Chat with AI
ai-intro =
    💬 Ask me about the server in plain words: “what's training now?”, “which model is best on shapes?”, “why did run 12 fail?”, “start 30 epochs of yolo11n on shapes”.
    I look things up through the server; starting or stopping a run waits for your Confirm. /ask works from anywhere, /start leaves this chat.
ai-not-configured =
    💬 Chat with AI needs a language model on an OpenAI-compatible server (Ollama, llama.cpp's server, vLLM, LM Studio), and the bot is not pointed at one yet.
    With Ollama: <code>ollama pull qwen2.5:7b</code> (it serves at http://127.0.0.1:11434/v1), then in the bot's .env:
    <code>LLM_BASE_URL=http://127.0.0.1:11434/v1</code>
    <code>LLM_MODEL=qwen2.5:7b</code>
    and restart the bot. With llama.cpp: <code>llama-server -m model.gguf --jinja --port 8080</code> and LLM_BASE_URL=http://127.0.0.1:8080/v1. LLM_API_KEY only if the server wants a key. More in the README (Telegram bot).
ai-ask-usage = Write the question after the command, e.g. <code>/ask what's training now?</code>
ai-thinking = 💭 Thinking…
ai-busy = ⏳ Still answering your previous question, one moment.
ai-using-tool = 🔧 Looking it up: { $tool }…
ai-clear = 🧹 Clear
ai-cleared = Conversation cleared.
ai-confirm = ✅ Confirm
ai-cancel = ✖️ Cancel
ai-confirm-start =
    <b>I will start training:</b> dataset { $dataset } ({ $task }), model { $model }, { $epochs } epochs.
    Confirm?
ai-confirm-stop = <b>I will stop run #{ $id }</b> “{ $name }” (now { $status }). Confirm?
ai-started = ✅ Run #{ $id } “{ $name }” created. I follow its progress here.
ai-stopped = ⏹ Run #{ $id }: stop requested (now { $status }).
ai-cancelled = ✖️ Cancelled, nothing was done.
ai-refused = ❌ The server refused: { $message }
ai-expired = This proposal is no longer waiting (done already, or the bot restarted). Ask again.
ai-timeout = ⌛ The language model did not answer within { $seconds } s. Check that the model server is running, then ask again.
ai-unreachable = ⚠️ No answer from the language model server: { $reason }
ai-garbage = ⚠️ The language model's answer is not in the OpenAI chat format, I cannot read it ({ $reason }). Check LLM_BASE_URL and LLM_MODEL.
ai-too-many-steps = ⚠️ The language model kept looking things up without answering. Try a more precise question.
