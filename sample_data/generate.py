"""Generate the synthetic sample datasets shipped with mlc.

Run from the repository root:

    uv run python sample_data/generate.py

Every file is produced from a fixed seed, so re-running the script rewrites
identical data. Two datasets are written, each as four Parquet files plus a
TOML training config:

* ``credit/``   -- binary classification (loan default).
* ``delivery/`` -- regression (food delivery time in minutes).

For each dataset there is the training file, a "current" file (later traffic,
same process, i.e. healthy), a covariate-drift file (inputs shift, labelling
relation unchanged) and a concept-drift file (inputs unchanged, relation
changes). See ``sample_data/README.md`` for the planted relations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

# One base seed; every file gets its own stream (BASE_SEED, stream id) so that
# changing the row count of one file never perturbs another file's data.
BASE_SEED = 20250101

OUT_DIR = Path(__file__).resolve().parent

TRAIN_START = datetime(2025, 1, 1)
TRAIN_END = datetime(2026, 1, 1)
# Later traffic covers a full year too: the delivery data is seasonal, so a
# partial year would itself look like drift in the "healthy" current file.
LATER_START = datetime(2026, 1, 1)
LATER_END = datetime(2027, 1, 1)

MAX_FILE_BYTES = 5 * 1024 * 1024


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One output file: its name, RNG stream, row count and time window."""

    file: str
    stream: int
    rows: int
    start: datetime
    end: datetime


def make_rng(stream: int) -> np.random.Generator:
    """Independent, reproducible generator for one output file."""
    return np.random.default_rng((BASE_SEED, stream))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def random_timestamps(
    rng: np.random.Generator, n: int, start: datetime, end: datetime
) -> np.ndarray:
    """Uniform timestamps in [start, end), whole seconds, as datetime64[us].

    Second resolution looks like real event logs; microsecond storage is the
    Parquet/Polars/DuckDB default so no consumer has to cast.
    """
    lo = np.datetime64(start, "s").astype(np.int64)
    hi = np.datetime64(end, "s").astype(np.int64)
    return rng.integers(lo, hi, size=n).astype("datetime64[s]").astype("datetime64[us]")


def random_ids(rng: np.random.Generator, n: int, prefix: str) -> list[str]:
    """Opaque hex ids like 'app_3f9a1c0b7d2e', unique within a file.

    48 random bits make collisions across the sample files practically
    impossible, and we still reject any duplicates to be safe.
    """
    raw = rng.integers(0, 2**48, size=n * 2, dtype=np.int64)
    unique = list(dict.fromkeys(raw.tolist()))[:n]
    if len(unique) < n:
        msg = "id collision; increase the id space"
        raise RuntimeError(msg)
    return [f"{prefix}_{value:012x}" for value in unique]


def choice(
    rng: np.random.Generator, labels: Sequence[str], probs: Sequence[float], n: int
) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(np.asarray(labels), size=n, p=p / p.sum())


def choice_per_row(
    rng: np.random.Generator, labels: Sequence[str], logits: np.ndarray
) -> np.ndarray:
    """Draw one label per row from row-specific softmax(logits) (n x k)."""
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    cumulative = probs.cumsum(axis=1)
    u = rng.random((logits.shape[0], 1))
    index = np.minimum((u > cumulative).sum(axis=1), len(labels) - 1)
    return np.asarray(labels)[index]


def lookup(values: np.ndarray, table: dict[str, float]) -> np.ndarray:
    """Map each categorical value to a number (per-level effects)."""
    out = np.zeros(values.shape[0])
    for level, effect in table.items():
        out[values == level] = effect
    return out


def with_missing(
    df: pl.DataFrame, rng: np.random.Generator, rates: dict[str, float]
) -> pl.DataFrame:
    """Null out a random fraction of each listed column (MCAR).

    Applied after the label is computed, so missingness hides information
    from the model instead of changing the true relation.
    """
    masks = {col: rng.random(df.height) < rate for col, rate in rates.items()}
    return df.with_columns(
        pl.when(pl.Series(mask)).then(None).otherwise(pl.col(col)).alias(col)
        for col, mask in masks.items()
    )


def write_parquet(df: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path, compression="zstd", statistics=True)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        msg = f"{path} is {size} bytes, over the 5 MB budget"
        raise RuntimeError(msg)
    print(f"  wrote {path.relative_to(OUT_DIR.parent)} ({df.height} rows, {size:,} B)")


# --------------------------------------------------------------------------
# Credit default (binary classification)
# --------------------------------------------------------------------------

HOME_OWNERSHIP = ("rent", "own", "mortgage")
LOAN_PURPOSES = (
    "debt_consolidation",
    "car",
    "home_improvement",
    "education",
    "medical",
    "business",
)
REGIONS = ("north", "south", "east", "west")

# Typical loan size per purpose (USD) before scaling with income.
PURPOSE_LOAN_MEDIAN = {
    "debt_consolidation": 12_000.0,
    "car": 18_000.0,
    "home_improvement": 20_000.0,
    "education": 9_000.0,
    "medical": 6_000.0,
    "business": 25_000.0,
}


@dataclass(frozen=True)
class CreditPopulation:
    """Knobs for the applicant (feature) distribution; defaults = 2025."""

    log_income_shift: float = 0.0
    utilization_beta: tuple[float, float] = (1.6, 2.6)
    purpose_probs: tuple[float, ...] = (0.34, 0.18, 0.14, 0.10, 0.09, 0.15)


@dataclass(frozen=True)
class CreditRelation:
    """Coefficients of the true default logit; defaults = training relation.

    Several terms are deliberately non-additive or non-monotone (U shapes,
    thresholds, an AND-gate) so tree ensembles beat a linear model.
    """

    intercept: float = -3.0
    dti: float = 2.0
    dti_hinge: float = 4.0  # extra risk once debt-to-income exceeds 0.40
    utilization_u: float = 5.0  # U shape: thin files and maxed-out cards
    stretched: float = 1.6  # high DTI *and* high utilization at the same time
    log_income_renter: float = -1.4  # low income hurts renters most
    log_income_other: float = -0.5
    sqrt_late: float = 0.8  # concave: the first late payment says most
    loan_to_income: float = 1.2
    new_job: float = 0.7  # under six months in the current job
    young_cosigner: float = -1.0  # a cosigner only matters for young borrowers
    young_business: float = 0.8  # business loans from short-tenure applicants
    age_u: float = 0.12  # young and elderly borrowers are riskier
    purpose: dict[str, float] = field(
        default_factory=lambda: {
            "debt_consolidation": 0.10,
            "car": -0.25,
            "home_improvement": -0.20,
            "education": 0.15,
            "medical": 0.35,
            "business": 0.30,
        }
    )
    home: dict[str, float] = field(
        default_factory=lambda: {"rent": 0.15, "own": -0.20, "mortgage": 0.0}
    )
    latent_sd: float = 0.4  # unobserved risk; keeps AUC realistic


# Concept drift: a new product/policy changes who defaults. High debt-to-income
# is now *protective* (e.g. only vetted refinancers get through), the purpose
# ranking is reshuffled, the young-borrower effects flip and income matters for
# owners rather than renters. Utilization and late payments keep their effect,
# so the old model is degraded rather than useless. The intercept keeps the
# default rate close to training, so the drift is invisible without labels.
CREDIT_CONCEPT_DRIFT = replace(
    CreditRelation(),
    intercept=-2.65,
    dti=-3.0,
    dti_hinge=-2.0,
    stretched=-0.5,
    log_income_renter=-0.4,
    log_income_other=-1.2,
    young_cosigner=0.4,
    young_business=-0.5,
    purpose={
        "debt_consolidation": -0.30,
        "car": 0.45,
        "home_improvement": 0.35,
        "education": -0.20,
        "medical": -0.25,
        "business": -0.30,
    },
)

# Covariate drift: a 2026 downturn -- lower incomes, fuller credit cards and
# more debt consolidation / medical borrowing. The relation is unchanged.
CREDIT_COVARIATE_DRIFT = CreditPopulation(
    log_income_shift=-0.25,
    utilization_beta=(2.4, 2.2),
    purpose_probs=(0.46, 0.10, 0.08, 0.08, 0.16, 0.12),
)


def credit_features(
    rng: np.random.Generator, n: int, pop: CreditPopulation
) -> dict[str, np.ndarray]:
    """Sample applicant features with realistic dependencies between them."""
    age = np.clip(rng.normal(41, 12, n), 21, 75).round().astype(np.int64)
    years_adult = age - 18

    # Tenure grows with age but job changes keep most spells short.
    months_employed = (
        np.minimum(rng.exponential(12 + 2.5 * (age - 21)), years_adult * 12)
        .round()
        .astype(np.int64)
    )

    log_income = (
        10.55
        + 0.35 * np.tanh((age - 25) / 15)
        + 0.08 * np.minimum(months_employed, 120) / 120
        + rng.normal(0, 0.45, n)
        + pop.log_income_shift
    )
    annual_income = np.round(np.exp(log_income), -2)

    # Older applicants are more likely to own or have a mortgage.
    home_logits = np.column_stack(
        [1.0 - 0.05 * (age - 21), -1.8 + 0.045 * (age - 21), 0.2 + 0.01 * (age - 21)]
    )
    home_ownership = choice_per_row(rng, HOME_OWNERSHIP, home_logits)

    loan_purpose = choice(rng, LOAN_PURPOSES, pop.purpose_probs, n)
    base_loan = lookup(loan_purpose, PURPOSE_LOAN_MEDIAN)
    loan_amount = base_loan * (annual_income / 55_000) ** 0.4
    loan_amount *= rng.lognormal(0, 0.45, n)
    loan_amount = np.round(np.clip(loan_amount, 1_000, 100_000) / 50) * 50

    # People consolidating debt carry more of it and use more of their cards.
    is_consolidation = loan_purpose == "debt_consolidation"
    debt_to_income = rng.beta(2.2, 6.0, n) + 0.06 * is_consolidation
    debt_to_income = np.clip(debt_to_income, 0.0, 0.95).round(3)

    a, b = pop.utilization_beta
    credit_utilization = rng.beta(a, b, n) + 0.05 * is_consolidation
    credit_utilization = np.clip(credit_utilization, 0.0, 1.0).round(3)

    num_open_accounts = 1 + rng.poisson(1.5 + 0.05 * (age - 21))
    late_rate = np.exp(-1.9 + 2.0 * credit_utilization + 1.0 * debt_to_income)
    num_late_payments_12m = rng.poisson(late_rate)

    region = choice(rng, REGIONS, (0.28, 0.24, 0.26, 0.22), n)
    # Young applicants bring a cosigner more often.
    has_cosigner = rng.random(n) < np.where(age < 26, 0.20, 0.07)

    return {
        "age": age,
        "annual_income": annual_income,
        "loan_amount": loan_amount,
        "debt_to_income": debt_to_income,
        "credit_utilization": credit_utilization,
        "num_open_accounts": num_open_accounts.astype(np.int64),
        "months_employed": months_employed,
        "num_late_payments_12m": num_late_payments_12m.astype(np.int64),
        "home_ownership": home_ownership,
        "loan_purpose": loan_purpose,
        "region": region,
        "has_cosigner": has_cosigner,
    }


def credit_logit(
    f: dict[str, np.ndarray], rel: CreditRelation, rng: np.random.Generator
) -> np.ndarray:
    """True log-odds of default: nonlinear terms, interactions and noise."""
    dti = f["debt_to_income"]
    util = f["credit_utilization"]
    young = f["age"] < 30
    is_renter = f["home_ownership"] == "rent"
    log_income = np.log(f["annual_income"]) - 10.9
    short_tenure = f["months_employed"] < 12
    is_business = f["loan_purpose"] == "business"
    return (
        rel.intercept
        + rel.dti * (dti - 0.3)
        + rel.dti_hinge * np.maximum(dti - 0.40, 0.0)
        + rel.utilization_u * (util - 0.35) ** 2
        + rel.stretched * ((dti > 0.35) & (util > 0.6))
        + np.where(is_renter, rel.log_income_renter, rel.log_income_other) * log_income
        + rel.sqrt_late * np.sqrt(f["num_late_payments_12m"])
        + rel.loan_to_income * (f["loan_amount"] / f["annual_income"] - 0.25)
        + rel.new_job * (f["months_employed"] < 6)
        + rel.young_cosigner * (young & f["has_cosigner"])
        + rel.young_business * (is_business & short_tenure)
        + rel.age_u * ((f["age"] - 45) / 10) ** 2
        + lookup(f["loan_purpose"], rel.purpose)
        + lookup(f["home_ownership"], rel.home)
        + rng.normal(0.0, rel.latent_sd, f["age"].shape[0])
    )


def credit_frame(v: Variant, pop: CreditPopulation, rel: CreditRelation) -> pl.DataFrame:
    rng = make_rng(v.stream)
    features = credit_features(rng, v.rows, pop)
    logit = credit_logit(features, rel, rng)
    default = (rng.random(v.rows) < sigmoid(logit)).astype(np.int64)
    df = pl.DataFrame(
        {
            "application_id": random_ids(rng, v.rows, "app"),
            "applied_at": random_timestamps(rng, v.rows, v.start, v.end),
            **features,
            "default": default,
        }
    )
    df = with_missing(
        df, rng, {"annual_income": 0.03, "months_employed": 0.04, "num_open_accounts": 0.02}
    )
    # Rows arrive in time order, like an application log.
    return df.sort("applied_at")


def generate_credit() -> None:
    out = OUT_DIR / "credit"
    pop, rel = CreditPopulation(), CreditRelation()
    later = (6_000, LATER_START, LATER_END)
    variants = [
        (Variant("credit.parquet", 1, 24_000, TRAIN_START, TRAIN_END), pop, rel),
        (Variant("credit_current.parquet", 2, *later), pop, rel),
        (Variant("credit_covariate_drift.parquet", 3, *later), CREDIT_COVARIATE_DRIFT, rel),
        (Variant("credit_concept_drift.parquet", 4, *later), pop, CREDIT_CONCEPT_DRIFT),
    ]
    for variant, variant_pop, variant_rel in variants:
        df = credit_frame(variant, variant_pop, variant_rel)
        write_parquet(df, out / variant.file)
        print(f"    default rate {df['default'].mean():.3f}")
    write_text(out / "credit.toml", CREDIT_TOML)


# --------------------------------------------------------------------------
# Delivery time (regression)
# --------------------------------------------------------------------------

CITIES = ("amsterdam", "berlin", "lisbon", "madrid", "warsaw")
VEHICLES = ("bike", "scooter", "car")


@dataclass(frozen=True)
class City:
    mean_temp: float  # annual mean, deg C
    temp_amplitude: float  # summer-winter half range
    rain_prob: float  # chance an order happens during precipitation
    traffic: float  # multiplier on travel time (>1 = congested)


CITY_PROFILES = {
    "amsterdam": City(10.5, 7.0, 0.30, 1.00),
    "berlin": City(10.0, 9.5, 0.22, 1.10),
    "lisbon": City(17.5, 5.5, 0.14, 1.05),
    "madrid": City(15.0, 10.0, 0.10, 1.20),
    "warsaw": City(8.5, 11.0, 0.20, 1.15),
}

VEHICLE_SPEED_KMH = {"bike": 15.0, "scooter": 24.0, "car": 30.0}


@dataclass(frozen=True)
class DeliveryPopulation:
    """Knobs for the order/courier (feature) distribution; defaults = 2025."""

    distance_scale: float = 1.6  # gamma scale of trip length (km)
    city_probs: tuple[float, ...] = (0.24, 0.26, 0.14, 0.20, 0.16)
    temp_shift: float = 0.0
    rain_boost: float = 1.0  # multiplier on each city's precipitation chance
    car_bias: float = 0.0  # added to the car logit when choosing a vehicle


@dataclass(frozen=True)
class DeliveryRelation:
    """How the true delivery time is produced; defaults = training relation."""

    base_minutes: float = 4.0
    courier_arrival_min: float = 9.0  # food waits if prep is quicker than this
    rush_car_slowdown: float = 0.55  # car speed factor in rush hour
    rush_scooter_slowdown: float = 0.85
    vehicle_speed: dict[str, float] = field(default_factory=lambda: dict(VEHICLE_SPEED_KMH))
    rain_factor: dict[str, float] = field(
        default_factory=lambda: {"bike": 0.80, "scooter": 0.85, "car": 0.92}
    )
    snow_factor: dict[str, float] = field(
        default_factory=lambda: {"bike": 0.55, "scooter": 0.60, "car": 0.72}
    )
    car_parking_min: float = 4.0
    per_item_handoff_min: float = 0.4
    rating_effect: float = 5.0  # minutes per rating point below 4.7
    noise_sd: float = 3.0
    noise_log_sd: float = 0.10  # multiplicative noise: longer trips vary more


# Concept drift: the cities roll out car-free zones and protected bike lanes,
# and restaurants batch orders. Same inputs, very different timings: cars
# crawl and park far away, bikes fly, couriers arrive sooner so short prep
# times show through, hand-offs take longer per item, rain barely matters for
# bikes any more and the best-rated couriers are no longer the fastest.
DELIVERY_CONCEPT_DRIFT = DeliveryRelation(
    base_minutes=2.0,
    courier_arrival_min=4.0,
    rush_car_slowdown=0.5,
    rush_scooter_slowdown=0.95,
    vehicle_speed={"bike": 24.0, "scooter": 22.0, "car": 17.0},
    rain_factor={"bike": 0.95, "scooter": 0.70, "car": 0.70},
    snow_factor={"bike": 0.85, "scooter": 0.45, "car": 0.50},
    car_parking_min=9.0,
    per_item_handoff_min=1.2,
    rating_effect=-3.0,
)

# Covariate drift: the service expands its delivery radius (longer trips),
# opens more orders in Warsaw/Berlin, has a cold, wet 2026 and hires more car
# couriers. The relation is unchanged.
DELIVERY_COVARIATE_DRIFT = DeliveryPopulation(
    distance_scale=2.4,
    city_probs=(0.15, 0.30, 0.08, 0.12, 0.35),
    temp_shift=-4.0,
    rain_boost=1.8,
    car_bias=1.0,
)


def order_timestamps(
    rng: np.random.Generator, n: int, start: datetime, end: datetime
) -> np.ndarray:
    """Order times with lunch and dinner peaks, as datetime64[us]."""
    days = (end - start).days
    day = rng.integers(0, days, n)
    peak = rng.choice(3, size=n, p=(0.35, 0.50, 0.15))
    hour = np.where(
        peak == 0,
        rng.normal(12.5, 1.0, n),
        np.where(peak == 1, rng.normal(19.0, 1.4, n), rng.uniform(10, 23, n)),
    )
    hour = np.clip(hour, 10.0, 23.99)
    offset_s = (day * 86_400 + hour * 3_600).astype(np.int64)
    return (np.datetime64(start, "s") + offset_s.astype("timedelta64[s]")).astype("datetime64[us]")


def delivery_features(
    rng: np.random.Generator,
    n: int,
    start: datetime,
    end: datetime,
    pop: DeliveryPopulation,
) -> dict[str, np.ndarray]:
    ordered_at = order_timestamps(rng, n, start, end)
    hour_of_day = (ordered_at.astype("datetime64[h]").astype(np.int64) % 24).astype(np.int64)
    day_of_year = (ordered_at.astype("datetime64[D]") - ordered_at.astype("datetime64[Y]")).astype(
        np.int64
    )

    city = choice(rng, CITIES, pop.city_probs, n)
    profiles = [CITY_PROFILES[c] for c in city]
    mean_temp = np.array([p.mean_temp for p in profiles])
    amplitude = np.array([p.temp_amplitude for p in profiles])
    rain_prob = np.array([p.rain_prob for p in profiles])

    # Seasonal temperature peaking in late July, warmer in the evening.
    seasonal = np.cos(2 * np.pi * (day_of_year - 200) / 365)
    temperature_c = (
        mean_temp
        + amplitude * seasonal
        + 1.5 * np.sin(np.pi * (hour_of_day - 9) / 12)
        + rng.normal(0, 3.0, n)
        + pop.temp_shift
    ).round(1)

    # Precipitation falls as snow when it is cold enough.
    wet = rng.random(n) < np.clip(rain_prob * pop.rain_boost, 0, 0.9)
    weather = np.where(wet, np.where(temperature_c < 1.0, "snow", "rain"), "clear")

    distance_km = np.clip(rng.gamma(2.2, pop.distance_scale, n), 0.3, 25.0).round(2)
    # Short trips go by bike, long ones by car; bad weather pushes towards cars.
    vehicle_logits = np.column_stack(
        [
            1.2 - 0.45 * distance_km - 0.8 * (weather != "clear"),
            np.full_like(distance_km, 0.6),
            -1.6 + 0.25 * distance_km + 0.4 * (weather != "clear") + pop.car_bias,
        ]
    )
    vehicle = choice_per_row(rng, VEHICLES, vehicle_logits)

    items = np.clip(1 + rng.poisson(1.8, n), 1, 15).astype(np.int64)
    # Kitchens are slower per item and during the dinner rush.
    dinner_rush = (hour_of_day >= 18) & (hour_of_day <= 20)
    prep_time_min = (5.0 + 2.0 * items + 3.0 * dinner_rush + rng.gamma(2.0, 2.0, n)).round(1)

    courier_rating = np.clip(5.0 - rng.gamma(2.0, 0.18, n), 3.0, 5.0).round(2)

    return {
        "ordered_at": ordered_at,
        "distance_km": distance_km,
        "items": items,
        "prep_time_min": prep_time_min,
        "courier_rating": courier_rating,
        "hour_of_day": hour_of_day,
        "temperature_c": temperature_c,
        "city": city,
        "vehicle": vehicle,
        "weather": weather,
    }


def delivery_minutes(
    f: dict[str, np.ndarray], rel: DeliveryRelation, rng: np.random.Generator
) -> np.ndarray:
    """True delivery time: wait for food, ride, hand off, plus noise."""
    vehicle, weather, hour = f["vehicle"], f["weather"], f["hour_of_day"]
    n = vehicle.shape[0]

    speed = lookup(vehicle, rel.vehicle_speed)
    rush = ((hour >= 12) & (hour <= 13)) | ((hour >= 17) & (hour <= 19))
    speed = np.where(rush & (vehicle == "car"), speed * rel.rush_car_slowdown, speed)
    speed = np.where(rush & (vehicle == "scooter"), speed * rel.rush_scooter_slowdown, speed)
    speed = np.where(weather == "rain", speed * lookup(vehicle, rel.rain_factor), speed)
    speed = np.where(weather == "snow", speed * lookup(vehicle, rel.snow_factor), speed)
    # Riding in freezing cold or heat is slower for two-wheelers.
    exposed = vehicle != "car"
    uncomfortable = (f["temperature_c"] < -3) | (f["temperature_c"] > 32)
    speed = np.where(exposed & uncomfortable, speed * 0.9, speed)

    traffic = np.array([CITY_PROFILES[c].traffic for c in f["city"]])
    ride = 60.0 * f["distance_km"] / speed * traffic

    # Courier and kitchen work in parallel: whichever is slower sets the pace.
    wait = np.maximum(f["prep_time_min"], rel.courier_arrival_min)
    handoff = rel.per_item_handoff_min * f["items"] + np.where(
        vehicle == "car", rel.car_parking_min, 1.0
    )
    courier = rel.rating_effect * (4.7 - f["courier_rating"])

    total = rel.base_minutes + wait + ride + handoff + courier
    total = total * rng.lognormal(0.0, rel.noise_log_sd, n) + rng.normal(0, rel.noise_sd, n)
    return np.maximum(total, 5.0).round(1)


def delivery_frame(v: Variant, pop: DeliveryPopulation, rel: DeliveryRelation) -> pl.DataFrame:
    rng = make_rng(v.stream)
    features = delivery_features(rng, v.rows, v.start, v.end, pop)
    target = delivery_minutes(features, rel, rng)
    df = pl.DataFrame(
        {
            "order_id": random_ids(rng, v.rows, "ord"),
            **features,
            "delivery_minutes": target,
        }
    )
    # New couriers have no rating yet; the weather API sometimes times out.
    df = with_missing(df, rng, {"courier_rating": 0.04, "temperature_c": 0.02, "weather": 0.02})
    return df.sort("ordered_at")


def generate_delivery() -> None:
    out = OUT_DIR / "delivery"
    pop, rel = DeliveryPopulation(), DeliveryRelation()
    later = (6_000, LATER_START, LATER_END)
    variants = [
        (Variant("delivery.parquet", 11, 20_000, TRAIN_START, TRAIN_END), pop, rel),
        (Variant("delivery_current.parquet", 12, *later), pop, rel),
        (Variant("delivery_covariate_drift.parquet", 13, *later), DELIVERY_COVARIATE_DRIFT, rel),
        (Variant("delivery_concept_drift.parquet", 14, *later), pop, DELIVERY_CONCEPT_DRIFT),
    ]
    for variant, variant_pop, variant_rel in variants:
        df = delivery_frame(variant, variant_pop, variant_rel)
        write_parquet(df, out / variant.file)
        print(f"    mean delivery_minutes {df['delivery_minutes'].mean():.1f}")
    write_text(out / "delivery.toml", DELIVERY_TOML)


# --------------------------------------------------------------------------
# Training configs
# --------------------------------------------------------------------------

CREDIT_TOML = """\
# Written by sample_data/generate.py -- edit there, then regenerate.

[model]
name = "credit-default"
task = "classification"
description = "Predict whether a consumer loan applicant defaults within 12 months."

[data]
path = "credit.parquet"
target = "default"
timestamp = "applied_at"
exclude = ["application_id"]

[split]
method = "time"
holdout = 0.2
seed = 42

[algorithm]
name = "hist_gradient_boosting"
params = { learning_rate = 0.05, max_iter = 300, max_leaf_nodes = 15 }

[search]
strategy = "random"
trials = 8
time_limit_s = 120
cv = 3
seed = 7
metric = "roc_auc"

[search.space]
learning_rate = { low = 0.02, high = 0.2, log = true }
max_leaf_nodes = { low = 7, high = 31, type = "int" }
l2_regularization = { choices = [0.0, 0.1, 1.0] }

[gates]
min = { roc_auc = 0.75, accuracy = 0.80 }
max = { log_loss = 0.45 }
champion_metric = "roc_auc"
champion_tolerance = 0.01
"""

DELIVERY_TOML = """\
# Written by sample_data/generate.py -- edit there, then regenerate.

[model]
name = "delivery-time"
task = "regression"
description = "Predict food delivery time in minutes from order, courier and weather data."

[data]
path = "delivery.parquet"
target = "delivery_minutes"
timestamp = "ordered_at"
exclude = ["order_id"]

[split]
method = "time"
holdout = 0.2
seed = 42

[algorithm]
name = "hist_gradient_boosting"
params = { learning_rate = 0.1, max_iter = 300 }

[search]
strategy = "random"
trials = 8
time_limit_s = 120
cv = 3
seed = 7
metric = "neg_root_mean_squared_error"

[search.space]
learning_rate = { low = 0.02, high = 0.3, log = true }
max_leaf_nodes = { low = 15, high = 63, type = "int" }
l2_regularization = { choices = [0.0, 0.1, 1.0] }

[gates]
min = { r2 = 0.72 }
max = { rmse = 6.0, mae = 4.75 }
champion_metric = "rmse"
champion_tolerance = 0.25
"""


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    print(f"  wrote {path.relative_to(OUT_DIR.parent)}")


def main() -> None:
    print("credit:")
    generate_credit()
    print("delivery:")
    generate_delivery()


if __name__ == "__main__":
    main()
