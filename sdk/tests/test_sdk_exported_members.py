"""The public API is pinned: ``__all__`` lists exactly what the package exports on purpose."""

from __future__ import annotations

import kassa_client
import kassa_client.models

EXPECTED = {
    "AcquiringPayment", "AcquiringWidget", "AmountDetails", "ApiError", "AsyncClient",
    "AuthenticationError", "BankAccountMethod", "BankCard", "Card", "CardDetails", "CardMethod",
    "Client", "Contact", "Customer", "CustomerInteraction", "Deduplicator", "FpsBank",
    "FpsNoAccountWidget", "IdempotencyConflictError", "IdentificationError",
    "InsufficientFundsError", "InternalServerError", "InternetBankingDetails",
    "InvalidRequestError", "InvalidSessionStatusError", "KassaClientError", "NextAction",
    "OperationError", "OperationStatus", "Participant", "ParticipantDetails", "PaymentDetails",
    "PaymentMethod", "PaymentOptions", "PaymentRequest", "PaymentSession", "Payout",
    "PayoutRequest", "RawResponse", "RecurrentDetails", "RecurrentToken",
    "RecurrentTokenInactiveError", "Refund", "RefundAmountExceededError", "RefundStatus",
    "SessionNotFoundError", "SessionStatus", "SignatureError", "TokenInfo", "TokenizeWidget",
    "TransactionInfo", "TransportError", "UnexpectedResponseError", "Wallet", "WalletMethod",
    "WebhookEvent", "WebhookPayloadError", "WebhookType", "__version__", "load_private_key",
    "load_public_key", "sign", "verify", "verify_and_parse",
}  # fmt: skip


def test_all_is_pinned():
    """Adding or dropping a public name is a deliberate change to this list."""
    assert set(kassa_client.__all__) == EXPECTED
    assert len(kassa_client.__all__) == len(EXPECTED)


def test_every_exported_name_exists_and_says_where_it_lives():
    """Each name resolves; classes and functions come from the package's own modules."""
    for name in kassa_client.__all__:
        member = getattr(kassa_client, name)
        if name == "__version__":
            assert isinstance(member, str)
            continue
        module = getattr(member, "__module__", "kassa_client")
        assert module.startswith(("kassa_client", "typing")), (name, module)


def test_models_package_exports_every_model():
    """``kassa_client.models.__all__`` resolves and covers what the top level re-exports."""
    for name in kassa_client.models.__all__:
        assert hasattr(kassa_client.models, name), name
    from_models = {n for n in kassa_client.__all__ if hasattr(kassa_client.models, n)}
    assert from_models <= set(kassa_client.models.__all__)
