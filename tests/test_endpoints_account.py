"""Every client.account endpoint through the simulator: the exact query sent, the parsed model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from binance_pm import (
    AccountInfo,
    AccountStatus,
    AccountType,
    Ack,
    AssetLeverage,
    AutoRepayFuturesStatus,
    BnbTransferResult,
    Client,
    DeltaMode,
    EarnAsset,
    EarnAssetBalance,
    EarnTransferType,
    ExecutionUnknownError,
    FutureType,
    HmacSigner,
    InterestRecord,
    InvalidResponseError,
    MarginCallLevel,
    RepayHistoryPage,
    RepayRecord,
    RepaySource,
    TransferSide,
)
from binance_pm import _catalogue as catalogue
from binance_pm._endpoints import Endpoint
from binance_pm.testing import FakeBinance, Fault

from ._wire import last, payload

PM = "/sapi/v1/portfolio"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T0_MS = 1704067200000


def ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


# -- account and balances ----------------------------------------------------------------------


async def test_account_info(client: Client, fake_binance: FakeBinance) -> None:
    """account_info sends only recvWindow and parses Decimals, the thousands separator and enums."""
    info = await client.account.account_info()
    assert payload(last(fake_binance, f"{PM}/account")) == "recvWindow=5000"
    assert info == AccountInfo(
        uni_mmr=Decimal("5167.92171923"), account_equity=Decimal("122607.35137903"),
        actual_equity=Decimal("142607.35137903"), account_maint_margin=Decimal("23.72469206"),
        account_initial_margin=Decimal("47.44938412"),
        total_available_balance=Decimal("122559.90199491"),
        account_status=AccountStatus.NORMAL, account_type=AccountType.PM_1,
    )
    assert info.raw["totalAvailableBalance"] == "122,559.90199491"


async def test_account_info_new_status_and_extra_fields(client: Client, fake_binance: FakeBinance) -> None:
    """An undocumented status stays a plain str; unknown extra fields stay reachable in raw."""
    fake_binance.state.account.update(accountStatus="SOMETHING_NEW", newField="x")
    del fake_binance.state.account["totalAvailableBalance"]
    info = await client.account.account_info()
    assert info.account_status == "SOMETHING_NEW" and not isinstance(info.account_status, AccountStatus)
    assert info.total_available_balance is None
    assert info.raw["newField"] == "x"


async def test_missing_field_names_endpoint_and_field(client: Client, fake_binance: FakeBinance) -> None:
    """A success body without a required field raises InvalidResponseError naming both."""
    del fake_binance.state.account["uniMMR"]
    with pytest.raises(InvalidResponseError, match=r"account_info: .*missing field 'uniMMR'"):
        await client.account.account_info()


async def test_span_account_info(client: Client, fake_binance: FakeBinance) -> None:
    """span_account_info hits /sapi/v2 and parses the risk-unit list into a tuple."""
    info = await client.account.span_account_info()
    assert payload(last(fake_binance, "/sapi/v2/portfolio/account")) == "recvWindow=5000"
    assert info.account_type is AccountType.PM_3
    assert [(u.asset, u.uni_maintain_usd) for u in info.risk_units] == [
        ("BTC", Decimal("23.72469206"))
    ]
    assert info.margin_mm == 0 and info.other_mm == 0


async def test_balance_all_and_one(client: Client, fake_binance: FakeBinance) -> None:
    """balance() lists every asset; balance(asset=) sends asset first and returns one row."""
    every = await client.account.balance()
    assert payload(last(fake_binance, f"{PM}/balance")) == "recvWindow=5000"
    assert [b.asset for b in every] == ["BNB", "BTC", "BUSD", "USDT"]
    (btc,) = await client.account.balance(asset="BTC")
    assert payload(last(fake_binance, f"{PM}/balance")) == "asset=BTC&recvWindow=5000"
    assert btc.um_wallet_balance == Decimal("0.5") and btc.cm_wallet_balance == Decimal("0.1")
    assert btc.total_wallet_balance == Decimal("0.6")
    assert btc.update_time.tzinfo is UTC


async def test_balance_empty_strings_and_bare_object(client: Client, fake_binance: FakeBinance) -> None:
    """Documented-empty fields ("" or absent) are None; a bare object answer is one row."""
    body = {"asset": "BTC", "totalWalletBalance": "1", "crossMarginAsset": "1",
            "crossMarginBorrowed": "0", "crossMarginFree": "1", "crossMarginInterest": "0",
            "crossMarginLocked": "0", "umWalletBalance": "0", "umUnrealizedPNL": "",
            "cmWalletBalance": "0", "cmUnrealizedPNL": "", "updateTime": 0,
            "negativeBalance": "0"}
    fake_binance.inject(Fault.status_code(200, body=json.dumps(body), path=f"{PM}/balance"))
    (row,) = await client.account.balance(asset="BTC")
    assert row.cm_unrealized_pnl is None and row.um_unrealized_pnl is None
    assert row.option_wallet_balance is None and row.option_equity is None


async def test_asset_leverage(client: Client, fake_binance: FakeBinance) -> None:
    """asset_leverage sends only recvWindow and parses int leverages."""
    rows = await client.account.asset_leverage()
    assert payload(last(fake_binance, f"{PM}/margin-asset-leverage")) == "recvWindow=5000"
    assert rows[0] == AssetLeverage(asset="USDC", leverage=10)


# -- loans and history -----------------------------------------------------------------------------


async def test_repay_from_margin(client: Client, fake_binance: FakeBinance) -> None:
    """repay(from_=MARGIN) sends from=MARGIN, pays from margin and logs one execution."""
    fake_binance.state.margin["BUSD"] = Decimal("1000")
    result = await client.account.repay(from_=RepaySource.MARGIN)
    assert payload(last(fake_binance, f"{PM}/repay")) == "from=MARGIN&recvWindow=5000"
    assert result.tran_id == 58203331886213504
    assert fake_binance.state.margin["BUSD"] == Decimal("420.55")
    assert len(fake_binance.executed(f"{PM}/repay")) == 1


async def test_repay_history_page(client: Client, fake_binance: FakeBinance) -> None:
    """repay_history sends startTime, endTime, current, size in that order; rows are typed."""
    fake_binance.state.repay_history[:] = [("USDT", Decimal("404.80294503"), T0_MS + 5000),
                                  ("USDT", Decimal("4620.41204574"), T0_MS + 1000)]
    page = await client.account.repay_history(
        start=T0, end=T0_MS + 86_400_000, current=1, size=5, recv_window=7000
    )
    assert payload(last(fake_binance, f"{PM}/pmloan-history")) == (
        f"startTime={T0_MS}&endTime={T0_MS + 86_400_000}&current=1&size=5&recvWindow=7000"
    )
    assert page == RepayHistoryPage(total=2, rows=(
        RepayRecord("USDT", Decimal("404.80294503"), ms(T0_MS + 5000)),
        RepayRecord("USDT", Decimal("4620.41204574"), ms(T0_MS + 1000)),
    ))


async def test_repay_history_empty_page_without_rows(client: Client, fake_binance: FakeBinance) -> None:
    """An empty page that omits "rows" parses as no rows."""
    fake_binance.inject(Fault.status_code(200, body='{"total":0}', path=f"{PM}/pmloan-history"))
    page = await client.account.repay_history()
    assert page.total == 0 and page.rows == ()
    assert payload(last(fake_binance, f"{PM}/pmloan-history")) == "recvWindow=5000"


async def test_interest_history(client: Client, fake_binance: FakeBinance) -> None:
    """interest_history sends asset, startTime, endTime, size in order and parses the rows."""
    rows = await client.account.interest_history(
        asset="USDT", start=1670000000000, end=1671000000000, size=50
    )
    assert payload(last(fake_binance, f"{PM}/interest-history")) == (
        "asset=USDT&startTime=1670000000000&endTime=1671000000000&size=50&recvWindow=5000"
    )
    assert rows == (InterestRecord("USDT", Decimal("24.4440"), ms(1670227200000),
                                   Decimal("0.0001164"), Decimal("210000")),)


async def test_interest_history_retail_spelling(client: Client, fake_binance: FakeBinance) -> None:
    """The retail PM spelling "interestAccuredTime" is read too."""
    body = [{"asset": "USDT", "interest": "1", "interestAccuredTime": 1670227200000,
             "interestRate": "0.0001", "principal": "10"}]
    fake_binance.inject(Fault.status_code(200, body=json.dumps(body), path=f"{PM}/interest-history"))
    (row,) = await client.account.interest_history()
    assert row.interest_accrued_time == ms(1670227200000)


# -- collection and transfers -------------------------------------------------------------------------


async def test_auto_collection(client: Client, fake_binance: FakeBinance) -> None:
    """auto_collection moves futures balances to margin, except BNB in UM."""
    result = await client.account.auto_collection()
    assert result == Ack("success")
    assert payload(last(fake_binance, f"{PM}/auto-collection")) == "recvWindow=5000"
    assert fake_binance.state.um == {"USDT": 0, "BNB": Decimal("3"), "BTC": 0}
    assert fake_binance.state.margin["BTC"] == Decimal("0.6")
    assert len(fake_binance.executed(f"{PM}/auto-collection")) == 1


async def test_asset_collection_amount_and_future_type(client: Client, fake_binance: FakeBinance) -> None:
    """asset_collection sends asset, amount, futureType in order and moves only that amount."""
    await client.account.asset_collection(
        asset="USDT", amount=Decimal("200.50"), future_type=FutureType.UM
    )
    assert payload(last(fake_binance, f"{PM}/asset-collection")) == (
        "asset=USDT&amount=200.5&futureType=UM&recvWindow=5000"
    )
    assert fake_binance.state.um["USDT"] == Decimal("999.50")
    assert fake_binance.state.margin["USDT"] == Decimal("2200.50")


async def test_asset_collection_whole_asset(client: Client, fake_binance: FakeBinance) -> None:
    """asset_collection(asset=) alone sends only the asset and sweeps every futures wallet."""
    await client.account.asset_collection(asset="BTC")
    assert payload(last(fake_binance, f"{PM}/asset-collection")) == "asset=BTC&recvWindow=5000"
    assert fake_binance.state.margin["BTC"] == Decimal("0.6")


async def test_bnb_transfer(client: Client, fake_binance: FakeBinance) -> None:
    """bnb_transfer sends amount then transferSide and returns the int tranId."""
    result = await client.account.bnb_transfer(amount=Decimal("0.5"), transfer_side=TransferSide.TO_UM)
    sent = payload(last(fake_binance, f"{PM}/bnb-transfer"))
    assert sent == "amount=0.5&transferSide=TO_UM&recvWindow=5000"
    assert result == BnbTransferResult(tran_id=58203331886213504)
    state = fake_binance.state
    assert (state.margin["BNB"], state.um["BNB"]) == (Decimal("4.5"), Decimal("3.5"))
    await client.account.bnb_transfer(amount="1", transfer_side="FROM_UM")
    assert fake_binance.state.um["BNB"] == Decimal("2.5")


async def test_earn_asset_balance(client: Client, fake_binance: FakeBinance) -> None:
    """earn_asset_balance sends asset=LDUSDT (the default) and transferType."""
    result = await client.account.earn_asset_balance(transfer_type=EarnTransferType.EARN_TO_FUTURE)
    assert payload(last(fake_binance, f"{PM}/earn-asset-balance")) == (
        "asset=LDUSDT&transferType=EARN_TO_FUTURE&recvWindow=5000"
    )
    assert result == EarnAssetBalance(asset="LDUSDT", amount=Decimal("1000"))


async def test_earn_asset_transfer(client: Client, fake_binance: FakeBinance) -> None:
    """earn_asset_transfer sends asset, transferType, amount in order and moves the asset."""
    result = await client.account.earn_asset_transfer(
        asset=EarnAsset.RWUSD, transfer_type="EARN_TO_FUTURE", amount=Decimal("100")
    )
    assert payload(last(fake_binance, f"{PM}/earn-asset-transfer")) == (
        "asset=RWUSD&transferType=EARN_TO_FUTURE&amount=100&recvWindow=5000"
    )
    assert result.msg == "success"
    state = fake_binance.state
    assert (state.earn["RWUSD"], state.um["RWUSD"]) == (Decimal("150"), Decimal("100"))
    assert fake_binance.used("UID", f"{PM}/earn-asset-transfer") == 1500


# -- switches and levels ---------------------------------------------------------------------------------


async def test_auto_repay_futures_get_and_set(client: Client, fake_binance: FakeBinance) -> None:
    """set_auto_repay_futures(auto_repay=False) sends autoRepay=false and flips the status."""
    assert await client.account.auto_repay_futures() == AutoRepayFuturesStatus(auto_repay=True)
    assert payload(last(fake_binance, f"{PM}/repay-futures-switch")) == "recvWindow=5000"
    assert await client.account.set_auto_repay_futures(auto_repay=False) == Ack("success")
    assert payload(last(fake_binance, f"{PM}/repay-futures-switch")) == "autoRepay=false&recvWindow=5000"
    assert (await client.account.auto_repay_futures()).auto_repay is False


async def test_repay_futures_negative_balance(client: Client, fake_binance: FakeBinance) -> None:
    """repay_futures_negative_balance sends from and pays the negative UM balance from it."""
    fake_binance.state.um["USDT"] = Decimal("-25")
    await client.account.repay_futures_negative_balance(from_="MARGIN")
    assert payload(last(fake_binance, f"{PM}/repay-futures-negative-balance")) == (
        "from=MARGIN&recvWindow=5000"
    )
    assert (fake_binance.state.um["USDT"], fake_binance.state.margin["USDT"]) == (0, Decimal("1975"))
    await client.account.repay_futures_negative_balance()
    assert payload(last(fake_binance, f"{PM}/repay-futures-negative-balance")) == "recvWindow=5000"


async def test_margin_call_level_set_get_delete(client: Client, fake_binance: FakeBinance) -> None:
    """Unset is None (Binance sends {}); set sends marginCallLevel; delete clears it."""
    assert await client.account.margin_call_level() == MarginCallLevel(level=None)
    set_to = await client.account.set_margin_call_level(level=Decimal("1.67354637"))
    assert payload(last(fake_binance, f"{PM}/margin-call-level")) == (
        "marginCallLevel=1.67354637&recvWindow=5000"
    )
    assert set_to.level == Decimal("1.67354637") == fake_binance.state.margin_call_level
    assert (await client.account.margin_call_level()).level == Decimal("1.67354637")
    assert await client.account.delete_margin_call_level() == Ack("success")
    req = last(fake_binance, f"{PM}/margin-call-level")
    assert req.method == "DELETE" and payload(req) == "recvWindow=5000"
    assert (await client.account.margin_call_level()).level is None


async def test_delta_mode_get_and_switch(client: Client, fake_binance: FakeBinance) -> None:
    """set_delta_mode(delta_enabled=True) sends deltaEnabled=true and flips the mode."""
    assert await client.account.delta_mode() == DeltaMode(delta_enabled=False)
    await client.account.set_delta_mode(delta_enabled=True)
    assert payload(last(fake_binance, f"{PM}/delta-mode")) == "deltaEnabled=true&recvWindow=5000"
    assert (await client.account.delta_mode()).delta_enabled is True


# -- retry policy ----------------------------------------------------------------------------------------

SPECS = [v for v in vars(catalogue).values() if isinstance(v, Endpoint)]


def test_catalogue_has_all_live_endpoints() -> None:
    """24 live endpoints, no mint/redeem, and every state-changing POST is non-idempotent."""
    assert len(SPECS) == 24
    assert not [s for s in SPECS if s.path.endswith(("/mint", "/redeem"))]
    for spec in SPECS:
        assert spec.is_idempotent is (spec.method in ("GET", "DELETE")), spec.name


async def test_money_moving_post_is_never_resent(client: Client, fake_binance: FakeBinance) -> None:
    """A 503 after a BNB transfer executed: ExecutionUnknownError, one request, one execution."""
    fake_binance.inject(Fault.status_code(503, execute=True, path=f"{PM}/bnb-transfer"))
    with pytest.raises(ExecutionUnknownError):
        await client.account.bnb_transfer(amount=Decimal("1"), transfer_side="TO_UM")
    assert len([r for r in fake_binance.requests if r.path == f"{PM}/bnb-transfer"]) == 1
    assert len(fake_binance.executed(f"{PM}/bnb-transfer")) == 1


async def test_delete_margin_call_level_is_retried(client: Client, fake_binance: FakeBinance) -> None:
    """DELETE margin-call-level is idempotent in effect: a 503 is retried like a GET."""
    fake_binance.inject(Fault.status_code(503, path=f"{PM}/margin-call-level", method="DELETE"))
    assert await client.account.delete_margin_call_level() == Ack("success")
    assert [r.status for r in fake_binance.requests if r.path == f"{PM}/margin-call-level"] == [503, 200]


async def test_post_missing_field_is_execution_unknown(client: Client, fake_binance: FakeBinance) -> None:
    """A POST whose 2xx body lacks tranId executed: ExecutionUnknownError, not a failure."""
    fake_binance.inject(Fault.status_code(200, body="{}", execute=True, path=f"{PM}/bnb-transfer"))
    with pytest.raises(ExecutionUnknownError, match=r"bnb_transfer: .*tranId"):
        await client.account.bnb_transfer(amount=Decimal("1"), transfer_side="TO_UM")


def test_bnb_transfer_signs_like_the_catalogue_vector() -> None:
    """The spec's parameter order reproduces the catalogue's derived HMAC vector for bnb-transfer."""
    query = catalogue.BNB_TRANSFER.encode({"amount": Decimal("0.5"), "transfer_side": "TO_UM"})
    signed = f"{query}&recvWindow=5000&timestamp=1499827319559".encode()
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    assert HmacSigner(secret).sign(signed) == (
        "568f696724feaf27a0c947dca6f3b8c7cec767ac3ddf0565fbc31bd0b9e04ed1"
    )
