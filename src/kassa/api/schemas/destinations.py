"""Wire models of payout destinations (§4.7): bank accounts and e-wallets, each field checked.

Formats are checked by the maintained libraries (python-stdnum for IBAN, BIC and US ABA
routing numbers; phonenumbers for phones and ``msisdn``), never by hand. Every field is
optional here, so ``session/create`` may carry a partial destination (``[]`` reads as ``{}``);
``start/payout`` checks that what the payout needs is there (``service/payouts.py``).
Phones arrive as the protocol writes them (``79680000000``): FPS phones are parsed with RU as
the default region, wallet numbers as international numbers; both are kept in E.164 digits.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, StrictStr, model_validator
from stdnum import bic, iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import rtn

from kassa.api.schemas.common import OtherPayoutMethod, PayoutCardMethod, WireModel

_SORT_CODE = re.compile(r"^\d{2}-\d{2}-\d{2}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9 -]{1,40}$")


def _empty_object(value: Any) -> Any:  # noqa: ANN401 - raw JSON
    return {} if value == [] else value


def _iban(value: str) -> str:
    try:
        return str(iban.validate(value))
    except StdnumError as exc:
        msg = f"not a valid IBAN ({exc})"
        raise ValueError(msg) from None


def _bic(value: str) -> str:
    try:
        return str(bic.validate(value))
    except StdnumError:
        msg = "must be a BIC of 8 or 11 characters"
        raise ValueError(msg) from None


def _routing(value: str) -> str:
    try:
        return str(rtn.validate(value))
    except StdnumError:
        msg = "must be a 9-digit ABA routing number with a valid checksum"
        raise ValueError(msg) from None


def _sort_code(value: str) -> str:
    if not _SORT_CODE.match(value):
        msg = 'must look like "12-34-56"'
        raise ValueError(msg)
    return value


def _account(value: str) -> str:
    if not _ACCOUNT.match(value):
        msg = "must be 1 to 40 letters, digits, spaces or dashes"
        raise ValueError(msg)
    return value.replace(" ", "").replace("-", "")


def phone(value: str, region: str | None) -> str:
    """A phone number in E.164 digits (no ``+``), parsed with ``region`` as the default."""
    text = value if region is not None or value.startswith("+") else f"+{value}"
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        msg = "not a phone number"
        raise ValueError(msg) from None
    if not phonenumbers.is_valid_number(parsed):
        msg = "not a valid phone number"
        raise ValueError(msg)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:]


def _fps_phone(value: str) -> str:
    return phone(value, "RU")


def _msisdn(value: str) -> str:
    return phone(value, None)


Text = Annotated[StrictStr, Field(min_length=1, max_length=255)]
Description = Annotated[StrictStr, Field(min_length=1, max_length=210)]


class GlobalAccount(WireModel):
    """``bank_account.global``: a cross-border account (which fields depend on the country)."""

    description: Description | None = None
    iban: Annotated[StrictStr, AfterValidator(_iban)] | None = None
    swift_bic_code: Annotated[StrictStr, AfterValidator(_bic)] | None = None
    account_number: Annotated[StrictStr, AfterValidator(_account)] | None = None
    sort_code: Annotated[StrictStr, AfterValidator(_sort_code)] | None = None
    bank_account_number: Annotated[StrictStr, AfterValidator(_account)] | None = None
    routing_code: Annotated[StrictStr, AfterValidator(_routing)] | None = None
    account_type: Literal["CHECKING", "SAVINGS"] | None = None
    branch_number: Annotated[StrictStr, Field(min_length=1, max_length=20)] | None = None


class FpsAccount(WireModel):
    """``bank_account.faster_payment_system``: a Russian FPS transfer by phone (RUB only)."""

    phone: Annotated[StrictStr, AfterValidator(_fps_phone)] | None = None
    bank_id: Annotated[StrictStr, Field(min_length=1, max_length=32)] | None = None
    description: Description | None = None


class FpsCheck(WireModel):
    """``bank_account.faster_payment_system_verification``: phone and bank to check."""

    phone: Annotated[StrictStr, AfterValidator(_fps_phone)] | None = None
    bank_id: Annotated[StrictStr, Field(min_length=1, max_length=32)] | None = None


class BankAccount(WireModel):
    """``bank_account``: ``system_type`` names the object given beside it."""

    system_type: Literal["global", "faster_payment_system", "faster_payment_system_verification"]
    global_: Annotated[GlobalAccount | None, BeforeValidator(_empty_object)] = Field(
        default=None, alias="global"
    )
    faster_payment_system: Annotated[FpsAccount | None, BeforeValidator(_empty_object)] = None
    faster_payment_system_verification: Annotated[
        FpsCheck | None, BeforeValidator(_empty_object)
    ] = None

    @model_validator(mode="after")
    def _named_object_given(self) -> BankAccount:
        name = "global_" if self.system_type == "global" else self.system_type
        if getattr(self, name) is None:
            msg = f"{self.system_type}: required when system_type is {self.system_type!r}"
            raise ValueError(msg)
        return self


class BankAccountMethod(WireModel):
    """Payout to a bank account."""

    type: Literal["bank_account"]
    bank_account: Annotated[BankAccount, BeforeValidator(_empty_object)]


class GlobalWalletDetails(WireModel):
    """``wallet.global``: an e-wallet by its ``msisdn`` (international phone number)."""

    name: Text | None = None
    description: Description | None = None
    msisdn: Annotated[StrictStr, AfterValidator(_msisdn)] | None = None


class Wallet(WireModel):
    """``wallet``: ``type`` names the object given beside it."""

    type: Literal["global"]
    global_: Annotated[GlobalWalletDetails | None, BeforeValidator(_empty_object)] = Field(
        default=None, alias="global"
    )

    @model_validator(mode="after")
    def _named_object_given(self) -> Wallet:
        if self.global_ is None:
            msg = "global: required when type is 'global'"
            raise ValueError(msg)
        return self


class WalletMethod(WireModel):
    """Payout to an e-wallet."""

    type: Literal["wallet"]
    wallet: Annotated[Wallet, BeforeValidator(_empty_object)]


PaymentMethod = Annotated[
    PayoutCardMethod | BankAccountMethod | WalletMethod | OtherPayoutMethod,
    Field(discriminator="type"),
]
