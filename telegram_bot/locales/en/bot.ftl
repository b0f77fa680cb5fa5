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
