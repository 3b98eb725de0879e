"""The widgets' words in English and Russian, and amounts in the customer's locale (Babel)."""

# ruff: noqa: RUF001 - the Russian texts are Cyrillic and typographic dashes by design

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

from babel.numbers import format_currency

from kassa.domain.public_token import DEFAULT_LOCALE, LOCALES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kassa.domain.money import Money

_EN: Final[dict[str, str]] = {
    "tokenize_title": "Add a card",
    "tokenize_intro": "Your card details go straight to the payment gateway, not to the shop.",
    "pay_title": "Pay by card",
    "amount": "Amount",
    "number": "Card number",
    "expiry": "Expiry (MM/YY)",
    "cvc": "CVC",
    "cvc_hint": "3 or 4 digits on the back of the card",
    "cardholder_name": "Name on card",
    "cardholder_name_optional": "Name on card (optional)",
    "recurrent": "Save this card for future payments",
    "save": "Save card",
    "pay": "Pay",
    "brand": "Card type",
    "brand_unknown": "not recognised yet",
    "fix_errors": "Please correct the highlighted fields.",
    "number.required": "Enter the card number.",
    "number.digits": "A card number has 12 to 19 digits.",
    "number.luhn": "This card number is not valid. Check for typos.",
    "expiry.required": "Enter the expiry date.",
    "expiry.format": "Use the format MM/YY.",
    "expiry.past": "This card has expired.",
    "cvc.required": "Enter the security code.",
    "cvc.format": "The security code is 3 or 4 digits.",
    "cardholder_name.required": "Enter the name on the card.",
    "cardholder_name.too_long": "The name is too long.",
    "cardholder_name.format": "The name contains characters that are not allowed.",
    "saved_title": "Card saved",
    "saved": "Your card {brand} •••• {last4} was saved. You can return to the shop.",
    "success_title": "Payment successful",
    "success": "Thank you. The payment was successful.",
    "failure_title": "Payment failed",
    "failure": "The payment did not go through. No money was taken.",
    "waiting_title": "Payment processing",
    "waiting": "Your card was authorised. The shop is completing the payment; this page updates "
    "by itself.",
    "action_title": "Confirm the payment",
    "action": "Your bank asks you to confirm this payment.",
    "action_link": "Continue to your bank",
    "continue": "Return to the shop",
    "refused_title": "This page cannot be used",
    "public_token_not_found": "This link is not valid. Ask the shop for a new one.",
    "public_token_expired": "This link has expired. Ask the shop for a new one.",
    "public_token_used": "This link was already used. Ask the shop for a new one.",
    "invalid_session_status": "This payment is already being processed or is finished.",
    "csrf_mismatch": "The form was not sent from this page. Reload the page and try again.",
    "too_many_attempts": "Too many attempts. Please try again later or ask the shop for help.",
    "invalid_request": "The form could not be processed. Reload the page and try again.",
    "internal_error": "Something went wrong on our side. Please try again later.",
}

_RU: Final[dict[str, str]] = {
    "tokenize_title": "Добавить карту",
    "tokenize_intro": "Данные карты передаются платёжному шлюзу, магазин их не видит.",
    "pay_title": "Оплата картой",
    "amount": "Сумма",
    "number": "Номер карты",
    "expiry": "Срок (ММ/ГГ)",
    "cvc": "CVC-код",
    "cvc_hint": "3 или 4 цифры на обороте карты",
    "cardholder_name": "Имя владельца карты",
    "cardholder_name_optional": "Имя владельца карты (необязательно)",
    "recurrent": "Сохранить карту для следующих платежей",
    "save": "Сохранить карту",
    "pay": "Оплатить",
    "brand": "Тип карты",
    "brand_unknown": "пока не определён",
    "fix_errors": "Исправьте отмеченные поля.",
    "number.required": "Введите номер карты.",
    "number.digits": "Номер карты состоит из 12–19 цифр.",
    "number.luhn": "Номер карты недействителен. Проверьте, нет ли опечатки.",
    "expiry.required": "Введите срок действия.",
    "expiry.format": "Используйте формат ММ/ГГ.",
    "expiry.past": "Срок действия карты истёк.",
    "cvc.required": "Введите код безопасности.",
    "cvc.format": "Код безопасности — 3 или 4 цифры.",
    "cardholder_name.required": "Введите имя владельца карты.",
    "cardholder_name.too_long": "Имя слишком длинное.",
    "cardholder_name.format": "Имя содержит недопустимые символы.",
    "saved_title": "Карта сохранена",
    "saved": "Карта {brand} •••• {last4} сохранена. Можно вернуться в магазин.",
    "success_title": "Оплата прошла",
    "success": "Спасибо, оплата прошла успешно.",
    "failure_title": "Оплата не прошла",
    "failure": "Платёж не прошёл. Деньги не списаны.",
    "waiting_title": "Платёж обрабатывается",
    "waiting": "Карта авторизована. Магазин завершает платёж; страница обновится сама.",
    "action_title": "Подтвердите платёж",
    "action": "Банк просит подтвердить этот платёж.",
    "action_link": "Перейти в банк",
    "continue": "Вернуться в магазин",
    "refused_title": "Эта страница недоступна",
    "public_token_not_found": "Ссылка недействительна. Попросите у магазина новую.",
    "public_token_expired": "Срок действия ссылки истёк. Попросите у магазина новую.",
    "public_token_used": "Эта ссылка уже использована. Попросите у магазина новую.",
    "invalid_session_status": "Этот платёж уже обрабатывается или завершён.",
    "csrf_mismatch": "Форма отправлена не с этой страницы. Обновите страницу и попробуйте снова.",
    "too_many_attempts": "Слишком много попыток. Попробуйте позже или обратитесь в магазин.",
    "invalid_request": "Не удалось обработать форму. Обновите страницу и попробуйте снова.",
    "internal_error": "Что-то пошло не так. Попробуйте позже.",
}

TEXTS: Final[Mapping[str, Mapping[str, str]]] = {"en": _EN, "ru": _RU}
BABEL_LOCALES: Final[Mapping[str, str]] = {"en": "en_US", "ru": "ru_RU"}


def texts(locale: str) -> Mapping[str, str]:
    """The words of ``locale`` (English for anything else)."""
    return TEXTS[locale if locale in LOCALES else DEFAULT_LOCALE]


def amount(money: Money, locale: str) -> str:
    """``$100.00`` / ``100,00 $``: the amount in the locale's notation, exact to the minor unit."""
    value = Decimal(money.minor).scaleb(-money.exponent)
    return format_currency(value, money.currency.upper(), locale=BABEL_LOCALES.get(locale, "en_US"))


def refusal(code: str, locale: str) -> str:
    """The sentence for a refused page by the error's code."""
    words = texts(locale)
    return words.get(code, words["internal_error"])
