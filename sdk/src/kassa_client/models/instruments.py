"""Payer instruments (``PaymentDetails``, §4.6) and payout destinations (``PaymentMethod``, §4.7).

Both are unions discriminated by ``type``. A ``type`` this client does not model (a newer
instrument, a regional one) parses into ``OtherPaymentDetails`` / ``OtherPaymentMethod`` with
every field kept, instead of failing. Responses carry cards masked: ``brand``, ``last4``,
``bin``; the number and CVC you send are never shown in ``repr``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag

from kassa_client.models._base import KassaModel


class BankCard(KassaModel):
    """A card in clear (server-to-server, PCI DSS): number, ``MM``, ``YY``, CVC."""

    number: str = Field(repr=False)
    expiration_month: str | None = None
    expiration_year: str | None = None
    security_code: str | None = Field(default=None, repr=False)
    cardholder_name: str | None = None


class EncryptedCard(KassaModel):
    """A card from the tokenization vault, by its ``number_hash``."""

    number_hash: str


class TokenizedCard(KassaModel):
    """A card tokenized by a wallet or widget."""

    token: str


class Card(KassaModel):
    """A card: in requests ``type`` names one of the objects; in responses it is masked."""

    type: str | None = None
    bank_card: BankCard | None = None
    encrypted_card: EncryptedCard | None = None
    tokenized_card: TokenizedCard | None = None
    brand: str | None = None
    last4: str | None = None
    bin: str | None = None
    card_id: str | None = None
    country_iso3: str | None = None


def _clear_card(number: str, **fields: str | None) -> Card:
    present = {k: v for k, v in fields.items() if v is not None}
    return Card(type="bank_card", bank_card=BankCard(number=number, **present))


def _vault_card(number_hash: str) -> Card:
    return Card(type="encrypted_card", encrypted_card=EncryptedCard(number_hash=number_hash))


class CardDetails(KassaModel):
    """Pay by card."""

    type: Literal["card"] = "card"
    card: Card

    @classmethod
    def from_bank_card(
        cls,
        number: str,
        expiration_month: str,
        expiration_year: str,
        security_code: str | None = None,
        cardholder_name: str | None = None,
    ) -> Self:
        """A card in clear: ``from_bank_card("4242424242424242", "05", "30", "123")``."""
        card = _clear_card(
            number,
            expiration_month=expiration_month,
            expiration_year=expiration_year,
            security_code=security_code,
            cardholder_name=cardholder_name,
        )
        return cls(card=card)

    @classmethod
    def from_number_hash(cls, number_hash: str) -> Self:
        """A card from the tokenization vault."""
        return cls(card=_vault_card(number_hash))


class RecurrentPayment(KassaModel):
    """A charge of a recurrent token: ``merchant`` (MIT) or ``client`` (CIT, needs return_url)."""

    token: str
    initiator: Literal["merchant", "client"] = "merchant"
    security_code: str | None = Field(default=None, repr=False)


class RecurrentDetails(KassaModel):
    """Pay with a recurrent token."""

    type: Literal["recurrent"] = "recurrent"
    recurrent: RecurrentPayment

    @classmethod
    def from_token(cls, token: str, initiator: Literal["merchant", "client"] = "merchant") -> Self:
        """Charge ``token``; ``initiator="client"`` for a customer-initiated charge."""
        return cls(recurrent=RecurrentPayment(token=token, initiator=initiator))


class InternetBankingDetails(KassaModel):
    """Pay by an internet-banking method: ``{"type": "pix", "pix": {…}}`` and the like."""

    type: Literal["internet_banking"] = "internet_banking"
    internet_banking: dict[str, Any]


class OtherPaymentDetails(KassaModel):
    """An instrument this client does not model; every field is kept in ``model_extra``."""

    type: str


def _tag(known: frozenset[str]) -> Any:  # noqa: ANN401 - pydantic's discriminator callable
    def tag(value: Any) -> str:  # noqa: ANN401 - raw JSON or a model
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kind if isinstance(kind, str) and kind in known else "other"

    return tag


PaymentDetails = Annotated[
    Annotated[CardDetails, Tag("card")]
    | Annotated[RecurrentDetails, Tag("recurrent")]
    | Annotated[InternetBankingDetails, Tag("internet_banking")]
    | Annotated[OtherPaymentDetails, Tag("other")],
    Discriminator(_tag(frozenset({"card", "recurrent", "internet_banking"}))),
]
"""The payer's instrument, discriminated by ``type``."""


class CardMethod(KassaModel):
    """Pay out to a card."""

    type: Literal["card"] = "card"
    card: Card

    @classmethod
    def from_number(cls, number: str) -> Self:
        """A card number in clear."""
        return cls(card=_clear_card(number))

    @classmethod
    def from_number_hash(cls, number_hash: str) -> Self:
        """A card from the tokenization vault (what the tokenization widget gives you)."""
        return cls(card=_vault_card(number_hash))


def _named_object(model: KassaModel, name: str) -> dict[str, Any]:
    """The object ``model`` holds under the key ``name`` (kept in ``model_extra``), or ``{}``."""
    value = (model.model_extra or {}).get(name)
    return dict(value) if isinstance(value, dict) else {}


class BankAccount(KassaModel):
    """``{"system_type": S, S: {…}}`` for S in ``global``, ``faster_payment_system``, ``upi``….

    ``details`` is the system's object. In answers account numbers, IBANs and phones are
    masked: ``{"iban": "****5432", "description": "…"}``.
    """

    system_type: str

    @property
    def details(self) -> dict[str, Any]:
        """The fields of the ``system_type`` object (a copy; ``{}`` when absent)."""
        return _named_object(self, self.system_type)


class BankAccountMethod(KassaModel):
    """Pay out to a bank account."""

    type: Literal["bank_account"] = "bank_account"
    bank_account: BankAccount

    @classmethod
    def of(cls, system_type: str, **fields: Any) -> Self:  # noqa: ANN401 - the system's own fields
        """``BankAccountMethod.of("global", iban="…", description="…")``."""
        return cls(
            bank_account=BankAccount.model_validate(
                {"system_type": system_type, system_type: fields}
            )
        )


class EWallet(KassaModel):
    """``{"type": T, T: {…}}`` for T in ``global`` (msisdn), ``qiwi``, ``yoomoney``….

    ``details`` is the wallet type's object; answers mask the number (``"****4567"``).
    """

    type: str

    @property
    def details(self) -> dict[str, Any]:
        """The fields of the ``type`` object (a copy; ``{}`` when absent)."""
        return _named_object(self, self.type)


class WalletMethod(KassaModel):
    """Pay out to an e-wallet."""

    type: Literal["wallet"] = "wallet"
    wallet: EWallet

    @classmethod
    def of(cls, wallet_type: str, **fields: Any) -> Self:  # noqa: ANN401 - the wallet's own fields
        """``WalletMethod.of("global", name="…", msisdn="…", description="…")``."""
        return cls(wallet=EWallet.model_validate({"type": wallet_type, wallet_type: fields}))


class OtherPaymentMethod(KassaModel):
    """A destination this client does not model; every field is kept in ``model_extra``."""

    type: str


PaymentMethod = Annotated[
    Annotated[CardMethod, Tag("card")]
    | Annotated[BankAccountMethod, Tag("bank_account")]
    | Annotated[WalletMethod, Tag("wallet")]
    | Annotated[OtherPaymentMethod, Tag("other")],
    Discriminator(_tag(frozenset({"card", "bank_account", "wallet"}))),
]
"""The payout destination (``payment_method`` in v1, ``payout_details`` in v2)."""
