"""Money as an int of minor units with an ISO 4217 currency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from kassa.domain.errors import InvalidRequest

# ISO 4217 active codes → minor-unit exponent (the number of decimals).
_EXPONENT_0: Final = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ],
)
_EXPONENT_3: Final = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])
_EXPONENT_4: Final = frozenset(["CLF", "UYW"])
_EXPONENT_2: Final = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUC",
        "CUP",
        "CVE",
        "CZK",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IRR",
        "JMD",
        "KES",
        "KGS",
        "KHR",
        "KPW",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "USD",
        "USN",
        "UYU",
        "UZS",
        "VED",
        "VES",
        "WST",
        "XCD",
        "XCG",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ],
)

EXPONENTS: Final[dict[str, int]] = {
    **dict.fromkeys(_EXPONENT_2, 2),
    **dict.fromkeys(_EXPONENT_0, 0),
    **dict.fromkeys(_EXPONENT_3, 3),
    **dict.fromkeys(_EXPONENT_4, 4),
}


def normalize_currency(code: str) -> str:
    """Return the lower-case ISO 4217 code, or raise ``InvalidRequest`` for an unknown one."""
    if code.upper() not in EXPONENTS:
        msg = f"currency: unknown ISO 4217 code {code!r}"
        raise InvalidRequest(msg)
    return code.lower()


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (``Money(10000, "usd")`` is 100.00 USD)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        """Reject non-int amounts and unknown currencies; store the code lower-case."""
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            msg = "amount: must be an integer number of minor units"
            raise InvalidRequest(msg)
        object.__setattr__(self, "currency", normalize_currency(self.currency))

    @property
    def exponent(self) -> int:
        """Decimals of the currency (JPY 0, USD 2, KWD 3)."""
        return EXPONENTS[self.currency.upper()]

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            msg = f"cannot combine {self.currency} with {other.currency}"
            raise ValueError(msg)

    def __add__(self, other: Money) -> Money:
        """Sum of two amounts in one currency."""
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        """Difference of two amounts in one currency."""
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        """The opposite amount."""
        return Money(-self.minor, self.currency)

    def positive(self) -> Money:
        """Return self, or raise ``InvalidRequest`` unless the amount is above zero."""
        if self.minor <= 0:
            msg = "amount_details.amount: must be greater than 0"
            raise InvalidRequest(msg)
        return self
