"""Type-checked (never run) uses of the public API: mypy --strict must accept every line."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import aiohttp

import binance_pm
from binance_pm import (
    NOT_GIVEN,
    AccountInfo,
    AccountStatus,
    AccountUpdate,
    APIError,
    AssetIndexPrice,
    Balance,
    Client,
    EarnTransferType,
    Endpoint,
    ExecutionUnknownError,
    FutureType,
    MarginCallLevel,
    Param,
    PmLoan,
    RateLimitError,
    RepayRecord,
    RepayResult,
    RepaySource,
    RetryPolicy,
    RiskLevel,
    RiskLevelChange,
    StreamGap,
    SystemTime,
    Timeout,
    TransferSide,
    UnknownEvent,
    Weight,
    WeightsSnapshot,
)
from binance_pm.limits import InMemoryWindowStore, WeightKind
from binance_pm.testing import (
    Escalation,
    FakeBinance,
    Family,
    Fault,
    VirtualTime,
    per_method_and_path,
)


class KmsSigner:
    def sign(self, payload: bytes) -> str:
        return payload.hex()


async def open_door(client: Client) -> None:
    account = Endpoint("spot_account", "GET", "/api/v3/account", Weight(WeightKind.API, 20),
                       params=(Param("omit_zero", "omitZeroBalances"),))
    data: object = await client.request(account, {"omit_zero": True})
    ping = Endpoint("fapi_ping", "GET", "/fapi/v1/ping", Weight(WeightKind.IP, 1), signed=False)
    count: int = await client.request(ping, parse=lambda d: len(d), timeout=2.0, max_wait=1)
    now: int = await client.server_time(max_wait=0)
    del data, count, now
    Client(api_key="k", signer=KmsSigner(), futures_url="https://fapi.binance.com",
           time_source=SystemTime(), max_body=1 << 20)
    Client(api_key="k", api_secret="s", time_source=VirtualTime())
    base: str = client.base_url + client.futures_url
    del base


async def usage(http: aiohttp.ClientSession) -> None:
    async with Client(api_key="k", api_secret="s") as client:
        loan: PmLoan = await client.account.pm_loan()
        amount: Decimal = loan.amount
        patient: Client = client.with_options(max_wait=120.0, recv_window=10_000, timeout=5)
        loan = await patient.account.pm_loan()
        loan = await client.account.pm_loan(recv_window=10_000, timeout=3.0, max_wait=0)
        loan = await client.account.pm_loan(timeout=Timeout(total=5, connect=1), recv_window=NOT_GIVEN)
        result: RepayResult = await client.account.repay(from_=RepaySource.MARGIN)
        tran_id: int = result.tran_id
        info: AccountInfo = await client.account.account_info(recv_window=10_000)
        normal: bool = info.account_status == AccountStatus.NORMAL
        balances: tuple[Balance, ...] = await client.account.balance(asset="USDT")
        await client.account.bnb_transfer(amount=Decimal("0.5"), transfer_side=TransferSide.TO_UM)
        await client.account.asset_collection(asset="USDT", amount="10", future_type=FutureType.UM)
        await client.account.earn_asset_transfer(
            asset="LDUSDT", transfer_type=EarnTransferType.EARN_TO_FUTURE, amount=Decimal(1)
        )
        level: MarginCallLevel = await client.account.set_margin_call_level(level=Decimal("1.5"))
        maybe: Decimal | None = level.level
        async for row in client.account.iter_repay_history(start=datetime(2024, 1, 1, tzinfo=UTC)):
            repaid: RepayRecord = row
            del repaid
        prices: tuple[AssetIndexPrice, ...] = await client.market.asset_index_prices(asset="BTC")
        del normal, balances, maybe, prices
        snapshot: WeightsSnapshot = client.weights
        used: int = sum(b.used for b in snapshot.for_kind(WeightKind.UID))
        offset: float = client.clock.offset_ms
        del amount, tran_id, used, offset
    Client(
        api_key="k",
        private_key=b"-----BEGIN PRIVATE KEY-----...",
        base_url="https://api.binance.com",
        recv_window=5000,
        session=http,
        uid_weight_limit=180_000,
        ip_weight_limit=12_000,
        weight_window_s=60,
        limiter_store=InMemoryWindowStore(),
        retry=RetryPolicy(max_retries=2),
    )
    try:
        pass
    except ExecutionUnknownError as err:
        method: str = err.method
        del method
    except RateLimitError as err:
        wait: float = err.retry_after
        banned: bool = err.banned
        del wait, banned
    except APIError as err:
        code: int | None = err.code
        status: int = err.status
        del code, status
    async with FakeBinance(skew_ms=5000) as sim:
        sim.inject(Fault.status_code(503, execute=True), Fault.reset(), Fault.latency(0.1))
        base: str = sim.base_url
        del base
    async with FakeBinance(
        fapi_weight_limit=2_400, sapi_buckets=per_method_and_path,
        escalation={Family.SAPI: Escalation(ban_after=3, ban_s=120, decay_s=60.0)},
    ) as sim:
        futures: str = sim.futures_url
        fapi_used: int = sim.used("IP", "/fapi/v1/listenKey", method="POST")
        del futures, fapi_used
    client = Client(api_key="k", api_secret="s", futures_url="https://fapi.binance.com",
                    stream_url="wss://fstream.binance.com")
    async with client.user_stream(heartbeat_timeout=15.0, keepalive_interval=1800.0,
                                  rotate_after=23 * 3600.0, close_listen_key=False) as stream:
        async for event in stream:
            match event:
                case RiskLevelChange(level=RiskLevel.MARGIN_CALL):
                    ratio: Decimal = event.uni_mmr
                    del ratio
                case AccountUpdate(uni_mmr=uni_mmr):
                    del uni_mmr
                case StreamGap(snapshot=snap):
                    deaf_from: datetime = event.since
                    repaired: AccountInfo | None = snap
                    del deaf_from, repaired
                case UnknownEvent(type=kind):
                    del kind
    version: str = binance_pm.__version__
    del version
