"""The training wizard: dataset -> base model -> epochs -> confirm, with Back and Cancel at each step."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram_i18n import LazyFilter

from telegram_bot import keyboards
from telegram_bot.api_client import ApiClient
from telegram_bot.callbacks import WizardCb
from telegram_bot.i18n import t
from telegram_bot.notifier import ProgressNotifier

MAX_EPOCHS = 10_000


class TrainWizard(StatesGroup):
    dataset = State()
    model = State()
    epochs = State()
    custom_epochs = State()
    confirm = State()


# Where Back leads from each step.
BACK = {TrainWizard.model.state: TrainWizard.dataset, TrainWizard.epochs.state: TrainWizard.model,
        TrainWizard.custom_epochs.state: TrainWizard.epochs, TrainWizard.confirm.state: TrainWizard.epochs}


async def render(step: State, data: dict[str, Any], api: ApiClient, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """The text and keyboard of a wizard step, from what was chosen so far."""
    if step == TrainWizard.dataset:
        datasets = (await api.datasets(limit=30)).items
        return t(lang, "wizard-dataset" if datasets else "wizard-no-datasets"), keyboards.wizard_datasets(datasets, lang)
    if step == TrainWizard.model:
        models = (await api.models(limit=10, task=data["task"])).items
        return t(lang, "wizard-model", dataset=data["dataset_name"]), keyboards.wizard_models(data["task"], models, lang)
    if step == TrainWizard.epochs:
        return t(lang, "wizard-epochs", model=data["model_label"]), keyboards.wizard_epochs(lang)
    if step == TrainWizard.custom_epochs:
        return t(lang, "wizard-enter-epochs"), keyboards.wizard_cancel_only(lang)
    text = t(lang, "wizard-confirm", dataset=data["dataset_name"], model=data["model_label"], epochs=data["epochs"])
    return text, keyboards.wizard_confirm(lang)


async def show(callback: CallbackQuery, step: State, state: FSMContext, api: ApiClient, lang: str) -> None:
    text, markup = await render(step, await state.get_data(), api, lang)
    await state.set_state(step)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


async def start_wizard(message: Message, state: FSMContext, api: ApiClient, lang: str) -> None:
    """Step 1: the datasets."""
    await state.clear()
    text, markup = await render(TrainWizard.dataset, {}, api, lang)
    await state.set_state(TrainWizard.dataset)
    await message.answer(text, reply_markup=markup)


async def cancel(callback: CallbackQuery, state: FSMContext, lang: str) -> None:
    await state.clear()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "wizard-cancelled"))


async def expired(callback: CallbackQuery, lang: str) -> None:
    """A button of a wizard the bot no longer remembers (finished, or the bot restarted)."""
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "wizard-expired"))


async def back(callback: CallbackQuery, state: FSMContext, api: ApiClient, lang: str) -> None:
    current = await state.get_state()
    await show(callback, BACK.get(current or "", TrainWizard.dataset), state, api, lang)


async def choose_dataset(callback: CallbackQuery, callback_data: WizardCb, state: FSMContext, api: ApiClient,
                         lang: str) -> None:
    dataset = await api.dataset(int(callback_data.value))
    await state.update_data(dataset=dataset.id, dataset_name=dataset.name, task=dataset.task)
    await show(callback, TrainWizard.model, state, api, lang)


async def choose_model(callback: CallbackQuery, callback_data: WizardCb, state: FSMContext, api: ApiClient,
                       lang: str) -> None:
    value = callback_data.value
    label = value if not value.isdigit() else f"#{value} {(await api.model(int(value))).name}"
    await state.update_data(model=int(value) if value.isdigit() else value, model_label=label)
    await show(callback, TrainWizard.epochs, state, api, lang)


async def choose_epochs(callback: CallbackQuery, callback_data: WizardCb, state: FSMContext, api: ApiClient,
                        lang: str) -> None:
    await state.update_data(epochs=int(callback_data.value))
    await show(callback, TrainWizard.confirm, state, api, lang)


async def ask_epochs(callback: CallbackQuery, state: FSMContext, api: ApiClient, lang: str) -> None:
    await show(callback, TrainWizard.custom_epochs, state, api, lang)


async def type_epochs(message: Message, state: FSMContext, api: ApiClient, lang: str) -> None:
    text = (message.text or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_EPOCHS:
        await message.answer(t(lang, "wizard-bad-epochs"), reply_markup=keyboards.wizard_cancel_only(lang))
        return
    await state.update_data(epochs=int(text))
    reply, markup = await render(TrainWizard.confirm, await state.get_data(), api, lang)
    await state.set_state(TrainWizard.confirm)
    await message.answer(reply, reply_markup=markup)


async def create(callback: CallbackQuery, state: FSMContext, api: ApiClient, lang: str,
                 notifier: ProgressNotifier) -> None:
    """Create the session and follow it in this chat."""
    data = await state.get_data()
    session = await api.create_session(task=data["task"], model=data["model"], dataset=data["dataset"],
                                       epochs=data["epochs"])
    await state.clear()
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "wizard-created", id=session.id))
        if not await notifier.follow(callback.message.chat.id, session, lang):
            await callback.message.answer(t(lang, "notify-off-hint"))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(start_wizard, LazyFilter("menu-train"))
    router.message.register(start_wizard, Command("train"))
    router.callback_query.register(cancel, WizardCb.filter(F.step == "cancel"))
    router.callback_query.register(expired, WizardCb.filter(), ~StateFilter(TrainWizard))
    router.callback_query.register(back, WizardCb.filter(F.step == "back"))
    router.callback_query.register(choose_dataset, TrainWizard.dataset, WizardCb.filter(F.step == "ds"))
    router.callback_query.register(choose_model, TrainWizard.model, WizardCb.filter(F.step == "m"))
    router.callback_query.register(choose_epochs, TrainWizard.epochs, WizardCb.filter(F.step == "ep"))
    router.callback_query.register(ask_epochs, TrainWizard.epochs, WizardCb.filter(F.step == "custom"))
    router.message.register(type_epochs, TrainWizard.custom_epochs, F.text)
    router.callback_query.register(create, TrainWizard.confirm, WizardCb.filter(F.step == "go"))
    return router
