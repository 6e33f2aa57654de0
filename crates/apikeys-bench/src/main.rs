//! Benchmarks of the apikeys clients: `cargo run --release -p apikeys-bench`.
//!
//! Starts a loopback HTTP/1.1 server with canned vendor bodies, then measures, in one run:
//!
//! - per-call time of a list and a create through each vendor crate versus the same request
//!   sent with a bare, shared `reqwest::Client` and decoded with `serde_json` into the same
//!   generated type, at concurrency 1 and 64 (medians, crate and bare runs interleaved);
//! - allocations per call, and the TCP connections the server accepted (keep-alive);
//! - streaming 100,000 ThingsBoard keys through `.stream()`: items/s and peak heap, against
//!   the peak while fetching and holding one page;
//! - what the retry and tracing hooks cost when nothing fails;
//! - `apikeys audit` of 5 accounts x 2,000 keys against listing them through the crates
//!   (needs `cargo build --release -p apikeys-cli` first; `BENCH_ONLY=audit` runs it alone);
//! - `apikeys exporter` over the same accounts: scrape latency while an audit runs against
//!   between audits, memory, audit time, series and bytes per 1,000 keys (the same binary;
//!   `BENCH_ONLY=exporter`).
//!
//! It prints a table and always exits 0; a target that is missed is marked `MISSED`.
//! `BENCH_SCALE=0.1` runs a tenth of the iterations (for a quick look; figures get noisier).
//! `BENCH_PROFILE="thingsboard list crate"` (vendor, `list`/`create`, `crate`/`bare`) only
//! repeats that call at c=64 for 10 s, to run under a profiler.
//! `BENCH_CALLS="thingsboard list crate 1000"` (a count last; `crate-noretry` for a client
//! with `RetryPolicy::disabled()`) makes 50 calls to warm up, then that many one after the
//! other, and exits: run it twice under `valgrind --tool=callgrind --separate-threads=yes`
//! with two counts, and the difference of the client thread's totals over the difference
//! of the counts is the instructions one call costs, whatever the machine's load.

mod alloc;
mod audit;
mod exporter;
mod server;
mod vendors;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apikeys_common::RetryPolicy;
use futures::TryStreamExt;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber;

use crate::vendors::{Ctx, Kind, Op, STREAM_PAGE_SIZE, STREAM_USER, VENDORS, Via};

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

/// Targets of the issue.
const MAX_RATIO_C1: f64 = 1.05;
const CONCURRENCY: usize = 64;

/// Iteration counts, scaled by `BENCH_SCALE`.
struct Plan {
    warm_up: usize,
    rounds: usize,
    batch: usize,
    c64_rounds: usize,
    c64_per_task: usize,
    alloc_calls: usize,
    streams: usize,
}

impl Plan {
    fn new() -> Self {
        let scale: f64 = std::env::var("BENCH_SCALE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0);
        let n = |full: usize| ((full as f64 * scale).ceil() as usize).max(1);
        Plan {
            warm_up: n(300),
            rounds: 250,
            batch: n(20),
            c64_rounds: 7,
            c64_per_task: n(50),
            alloc_calls: n(500),
            streams: 3,
        }
    }
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len().is_multiple_of(2) {
        (samples[mid - 1] + samples[mid]) / 2.0
    } else {
        samples[mid]
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

/// `n` calls one after the other, each timed (µs).
async fn sequential(ctx: &Ctx, op: Op, via: Via, n: usize, out: &mut Vec<f64>) {
    for _ in 0..n {
        let started = Instant::now();
        ctx.call(op, via).await;
        out.push(us(started.elapsed()));
    }
}

/// `tasks` tasks making `per_task` calls each; the wall time per call (µs).
async fn concurrent(ctx: &Arc<Ctx>, op: Op, via: Via, tasks: usize, per_task: usize) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    ctx.call(op, via).await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    us(started.elapsed()) / (tasks * per_task) as f64
}

/// Median per-call µs of each variant at concurrency 1, the variants' batches interleaved
/// (and their order alternated) so that drift hits them alike.
async fn interleaved<F, Fut>(plan: &Plan, variants: usize, mut batch: F) -> Vec<f64>
where
    F: FnMut(usize, usize, Vec<f64>) -> Fut,
    Fut: Future<Output = Vec<f64>>,
{
    for variant in 0..variants {
        batch(variant, plan.warm_up, Vec::new()).await;
    }
    let mut samples = vec![Vec::new(); variants];
    for round in 0..plan.rounds {
        for i in 0..variants {
            let variant = if round.is_multiple_of(2) {
                i
            } else {
                variants - 1 - i
            };
            let taken = std::mem::take(&mut samples[variant]);
            samples[variant] = batch(variant, plan.batch, taken).await;
        }
    }
    samples.iter_mut().map(|s| median(s)).collect()
}

struct Row {
    op: Op,
    c1: [f64; 2],
    c64: [f64; 2],
    allocs: [f64; 2],
    conns_c1: usize,
    conns_c64: [usize; 2],
    requests: usize,
}

async fn per_call(plan: &Plan, ctx: &Arc<Ctx>, server: &server::Server, op: Op) -> Row {
    let vias = [Via::Crate, Via::Bare];
    let before = server.connections();
    let c1 = interleaved(plan, 2, |variant, n, mut out| async move {
        sequential(ctx, op, vias[variant], n, &mut out).await;
        out
    })
    .await;
    let conns_c1 = server.connections() - before;

    let mut rounds = [Vec::new(), Vec::new()];
    let mut conns_c64 = [0, 0];
    for round in 0..=plan.c64_rounds {
        for i in 0..2 {
            let variant = if round.is_multiple_of(2) { i } else { 1 - i };
            let before = server.connections();
            let per_call = concurrent(ctx, op, vias[variant], CONCURRENCY, plan.c64_per_task).await;
            conns_c64[variant] += server.connections() - before;
            if round > 0 {
                rounds[variant].push(per_call);
            }
        }
    }

    let mut allocs = [0.0; 2];
    for (variant, via) in vias.iter().enumerate() {
        let start = alloc::allocations();
        for _ in 0..plan.alloc_calls {
            ctx.call(op, *via).await;
        }
        allocs[variant] = (alloc::allocations() - start) as f64 / plan.alloc_calls as f64;
    }
    let c1_calls = (plan.warm_up + plan.rounds * plan.batch) * 2;
    let c64_calls = (plan.c64_rounds + 1) * 2 * CONCURRENCY * plan.c64_per_task;
    Row {
        op,
        c1: [c1[0], c1[1]],
        c64: [median(&mut rounds[0]), median(&mut rounds[1])],
        allocs,
        conns_c1,
        conns_c64,
        requests: c1_calls + c64_calls + 2 * plan.alloc_calls,
    }
}

/// Sends one request of `op` each way and compares what the server received.
async fn check_same_requests(ctx: &Ctx, server: &server::Server, op: Op) -> bool {
    server.record();
    ctx.call(op, Via::Crate).await;
    ctx.call(op, Via::Bare).await;
    let seen = server.recorded();
    let same = seen.len() == 2 && seen[0] == seen[1];
    if !same {
        println!("  {}: the requests differ:\n{seen:#?}", op.label());
    }
    same
}

struct StreamFigures {
    items: usize,
    items_per_s: f64,
    peak: isize,
}

async fn stream_crate(ctx: &Ctx) -> StreamFigures {
    let before = alloc::current();
    alloc::reset_peak();
    let started = Instant::now();
    let items = ctx
        .tb
        .get_user_api_keys()
        .user_id(STREAM_USER)
        .page_size(STREAM_PAGE_SIZE as u32)
        .stream()
        .try_fold(0usize, |n, key| {
            std::hint::black_box(&key);
            futures::future::ready(Ok(n + 1))
        })
        .await
        .unwrap();
    let elapsed = started.elapsed();
    StreamFigures {
        items,
        items_per_s: items as f64 / elapsed.as_secs_f64(),
        peak: alloc::peak() - before,
    }
}

/// What one page costs: the peak while fetching and decoding it, and what holding the
/// decoded page keeps live.
async fn one_page(ctx: &Ctx) -> (isize, isize) {
    let before = alloc::current();
    alloc::reset_peak();
    let page = ctx
        .tb
        .get_user_api_keys()
        .user_id(STREAM_USER)
        .page(0)
        .page_size(STREAM_PAGE_SIZE as u32)
        .send()
        .await
        .unwrap();
    let peak = alloc::peak() - before;
    assert_eq!(page.data.len(), STREAM_PAGE_SIZE);
    // What the page itself keeps live (other tasks may free memory meanwhile, so this is
    // measured across the drop).
    let holding = alloc::current();
    drop(page);
    (peak, holding - alloc::current())
}

/// One page with bare reqwest + serde_json: the peak while fetching and decoding it.
async fn one_page_bare(base: &str) -> isize {
    let http = reqwest::Client::new();
    let before = alloc::current();
    alloc::reset_peak();
    let response = http
        .get(format!("{base}/api/apiKeys/{STREAM_USER}"))
        .query(&[("page", 0), ("pageSize", STREAM_PAGE_SIZE)])
        .send()
        .await
        .unwrap();
    let body = response.bytes().await.unwrap();
    let page: thingsboard_apikeys::types::PageDataApiKeyInfo =
        serde_json::from_slice(&body).unwrap();
    drop(body);
    let peak = alloc::peak() - before;
    assert_eq!(page.data.len(), STREAM_PAGE_SIZE);
    peak
}

/// The same 100 pages with bare reqwest + serde_json, one page at a time.
async fn stream_bare(base: &str) -> StreamFigures {
    let http = reqwest::Client::new();
    let before = alloc::current();
    alloc::reset_peak();
    let started = Instant::now();
    let mut items = 0;
    for page in 0.. {
        let response = http
            .get(format!("{base}/api/apiKeys/{STREAM_USER}"))
            .query(&[("page", page), ("pageSize", STREAM_PAGE_SIZE)])
            .send()
            .await
            .unwrap();
        let body = response.bytes().await.unwrap();
        let decoded: thingsboard_apikeys::types::PageDataApiKeyInfo =
            serde_json::from_slice(&body).unwrap();
        drop(body);
        for key in decoded.data {
            std::hint::black_box(&key);
            items += 1;
        }
        if !decoded.has_next {
            break;
        }
    }
    let elapsed = started.elapsed();
    StreamFigures {
        items,
        items_per_s: items as f64 / elapsed.as_secs_f64(),
        peak: alloc::peak() - before,
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}

/// `BENCH_CALLS`: `n` calls of one operation, one way, one after the other.
async fn calls(spec: &str) {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let [vendor, kind, via, n] = words[..] else {
        panic!(
            "BENCH_CALLS is `<vendor> <list|create> <crate|crate-noretry|bare> <n>`, not `{spec}`"
        );
    };
    let vendor = *VENDORS.iter().find(|v| v.name() == vendor).unwrap();
    let kind = if kind == "list" {
        Kind::List
    } else {
        Kind::Create
    };
    let (via, retry) = match via {
        "bare" => (Via::Bare, RetryPolicy::default()),
        "crate-noretry" => (Via::Crate, RetryPolicy::disabled()),
        _ => (Via::Crate, RetryPolicy::default()),
    };
    let n: usize = n.parse().unwrap();
    let server = server::start(false);
    let ctx = Ctx::new(&format!("http://{}", server.addr), retry);
    let op = Op { vendor, kind };
    for _ in 0..50 {
        ctx.call(op, via).await;
    }
    for _ in 0..n {
        ctx.call(op, via).await;
    }
    println!(
        "{}: {n} calls, {} connections",
        op.label(),
        server.connections()
    );
}

/// `BENCH_PROFILE`: one operation, one way, at c=64, for 10 s.
async fn profile(spec: &str) {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let [vendor, kind, via] = words[..] else {
        panic!("BENCH_PROFILE is `<vendor> <list|create> <crate|bare>`, not `{spec}`");
    };
    let vendor = *VENDORS.iter().find(|v| v.name() == vendor).unwrap();
    let kind = if kind == "list" {
        Kind::List
    } else {
        Kind::Create
    };
    let via = if via == "bare" { Via::Bare } else { Via::Crate };
    let server = server::start(false);
    let ctx = Arc::new(Ctx::new(
        &format!("http://{}", server.addr),
        RetryPolicy::default(),
    ));
    let op = Op { vendor, kind };
    let started = Instant::now();
    let mut rounds = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        rounds.push(concurrent(&ctx, op, via, CONCURRENCY, 100).await);
    }
    println!("{}: {:.2} µs/call at c=64", op.label(), median(&mut rounds));
}

async fn run() {
    if let Ok(spec) = std::env::var("BENCH_PROFILE") {
        return profile(&spec).await;
    }
    if let Ok(spec) = std::env::var("BENCH_CALLS") {
        return calls(&spec).await;
    }
    let plan = Plan::new();
    let started = Instant::now();
    let server = server::start(true);
    let base = format!("http://{}", server.addr);
    let ctx = Arc::new(Ctx::new(&base, RetryPolicy::default()));
    println!("apikeys-bench: {} ({} build)", machine(), build_kind());
    println!(
        "server {base}: HTTP/1.1 keep-alive, canned bodies, on its own thread; clients on one \
         current-thread tokio runtime\n"
    );

    let ops: Vec<Op> = VENDORS
        .iter()
        .flat_map(|&vendor| [Kind::List, Kind::Create].map(|kind| Op { vendor, kind }))
        .collect();
    let mut same = true;
    for &op in &ops {
        same &= check_same_requests(&ctx, &server, op).await;
    }
    println!(
        "same request on the wire (crate vs bare, method/URI/headers/body): {}",
        if same {
            "yes, for all 10"
        } else {
            "NO (see above)"
        }
    );

    println!("\n## Per call: vendor crate vs bare reqwest + serde_json (median µs per call)\n");
    println!(
        "| operation           | c=1 crate | c=1 bare | c=1 ratio        | c=64 crate | c=64 bare | c=64 ratio | allocs/call crate / bare | new conns: c=1 both / c=64 crate, bare |"
    );
    println!(
        "|---------------------|----------:|---------:|------------------|-----------:|----------:|-----------:|--------------------------|----------------------------------------|"
    );
    let mut rows = Vec::new();
    for &op in &ops {
        let row = per_call(&plan, &ctx, &server, op).await;
        let ratio1 = row.c1[0] / row.c1[1];
        println!(
            "| {:<19} | {:>9.1} | {:>8.1} | {:>5.3} {:<10} | {:>10.2} | {:>9.2} | {:>10.3} | {:>11.1} / {:<10.1} | {:>11} / {:>3}, {:<20} |",
            row.op.label(),
            row.c1[0],
            row.c1[1],
            ratio1,
            verdict(ratio1 <= MAX_RATIO_C1),
            row.c64[0],
            row.c64[1],
            row.c64[0] / row.c64[1],
            row.allocs[0],
            row.allocs[1],
            row.conns_c1,
            row.conns_c64[0],
            row.conns_c64[1],
        );
        rows.push(row);
    }
    let requests: usize = rows.iter().map(|r| r.requests).sum::<usize>() + 2 * ops.len();
    // At c=64 hyper-util's pool starts a connection whenever a checkout finds no idle
    // one, and keeps it if an idle one wins the race: a client may hold a few more than 64.
    let reused = rows
        .iter()
        .all(|r| r.conns_c1 == 0 && r.conns_c64[0] <= 2 * CONCURRENCY);
    println!(
        "\nconnections accepted by the server: {} for {requests} requests (10 crate + 10 bare \
         clients). Target: none opened at c=1, at most 2 x 64 per crate client at c=64: {}",
        server.connections(),
        verdict(reused)
    );

    println!("\n## Hooks when nothing fails (thingsboard list, c=1, median µs per call)\n");
    let no_retry = Arc::new(Ctx::new(&base, RetryPolicy::disabled()));
    let info = Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .finish(),
    );
    let debug = Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::sink)
            .finish(),
    );
    let list = Op {
        vendor: vendors::VendorId::ThingsBoard,
        kind: Kind::List,
    };
    let labels = [
        "bare reqwest",
        "crate, RetryPolicy::disabled(), no subscriber",
        "crate, default retries, no subscriber",
        "crate, default retries, fmt subscriber at INFO",
        "crate, default retries, fmt subscriber at DEBUG",
    ];
    let hooks = interleaved(&plan, labels.len(), |variant, n, mut out| {
        let (ctx, via) = match variant {
            0 => (&ctx, Via::Bare),
            1 => (&no_retry, Via::Crate),
            _ => (&ctx, Via::Crate),
        };
        let dispatch = match variant {
            3 => Some(info.clone()),
            4 => Some(debug.clone()),
            _ => None,
        };
        async move {
            match dispatch {
                Some(dispatch) => {
                    sequential(ctx, list, via, n, &mut out)
                        .with_subscriber(dispatch)
                        .await
                }
                None => sequential(ctx, list, via, n, &mut out).await,
            }
            out
        }
    })
    .await;
    println!("| variant                                          | µs/call | vs previous row |");
    println!("|--------------------------------------------------|--------:|----------------:|");
    for (i, label) in labels.iter().enumerate() {
        let delta = if i == 0 {
            String::new()
        } else if i == 4 {
            format!("{:+.2} (vs INFO)", hooks[4] - hooks[3])
        } else {
            format!("{:+.2}", hooks[i] - hooks[i - 1])
        };
        println!("| {label:<48} | {:>7.2} | {delta:>15} |", hooks[i]);
    }

    println!("\n## Streaming 100,000 thingsboard keys (pages of 1,000)\n");
    let mut page_peaks = Vec::new();
    let mut held = 0;
    for _ in 0..plan.streams {
        let (peak, h) = one_page(&ctx).await;
        page_peaks.push(peak as f64);
        held = h;
    }
    let page_peak = median(&mut page_peaks) as isize;
    let mut bare_page_peaks = Vec::new();
    for _ in 0..plan.streams {
        bare_page_peaks.push(one_page_bare(&base).await as f64);
    }
    let bare_page_peak = median(&mut bare_page_peaks) as isize;
    let mut crate_runs = Vec::new();
    let mut bare_runs = Vec::new();
    for _ in 0..plan.streams {
        crate_runs.push(stream_crate(&ctx).await);
        bare_runs.push(stream_bare(&base).await);
    }
    let best = |runs: &[StreamFigures]| {
        let mut rates: Vec<f64> = runs.iter().map(|r| r.items_per_s).collect();
        let peak = runs.iter().map(|r| r.peak).max().unwrap_or(0);
        (median(&mut rates), peak, runs[0].items)
    };
    let (crate_rate, crate_peak, items) = best(&crate_runs);
    let (bare_rate, bare_peak, bare_items) = best(&bare_runs);
    assert_eq!(items, 100_000);
    assert_eq!(bare_items, 100_000);
    let within = crate_peak <= page_peak + 2 * held;
    println!("| what                                   |   items/s | peak heap |    decoded |");
    println!("|----------------------------------------|----------:|----------:|-----------:|");
    println!(
        "| one page via the crate                 |           | {:>5.2} MiB | {:>6.2} MiB |",
        mib(page_peak),
        mib(held)
    );
    println!(
        "| one page via bare reqwest + serde_json |           | {:>5.2} MiB |            |",
        mib(bare_page_peak)
    );
    println!(
        "| crate .stream(), 100 pages             | {:>9.0} | {:>5.2} MiB |            |",
        crate_rate,
        mib(crate_peak)
    );
    println!(
        "| bare reqwest page loop, 100 pages      | {:>9.0} | {:>5.2} MiB |            |",
        bare_rate,
        mib(bare_peak)
    );
    println!(
        "\nstream peak = one-page peak {:+.2} MiB ({:+.2} held pages); target within two pages: {}",
        mib(crate_peak - page_peak),
        (crate_peak - page_peak) as f64 / held as f64,
        verdict(within)
    );

    println!("\n## Summary\n");
    for row in &rows {
        let ratio = row.c1[0] / row.c1[1];
        println!(
            "{:<20} ratio c=1 {:.3} {:<6}  c=64 {:.3}",
            row.op.label(),
            ratio,
            verdict(ratio <= MAX_RATIO_C1),
            row.c64[0] / row.c64[1]
        );
    }
    println!(
        "stream {:.0} items/s ({:.2}x bare), peak {:.2} MiB vs one page {:.2} MiB: {}",
        crate_rate,
        crate_rate / bare_rate,
        mib(crate_peak),
        mib(page_peak),
        verdict(within)
    );
    println!(
        "hooks: retry policy {:+.2} µs/call, INFO subscriber {:+.2} µs/call",
        hooks[2] - hooks[1],
        hooks[3] - hooks[2]
    );
    println!(
        "keep-alive: {} connections for {requests} requests: {}",
        server.connections(),
        verdict(reused)
    );
    println!("total run time {:.1} s", started.elapsed().as_secs_f64());
}

fn build_kind() -> &'static str {
    if cfg!(debug_assertions) {
        "debug: figures are not representative, use --release"
    } else {
        "release"
    }
}

fn main() {
    // The clients run on one thread and the server on another: one core each on a
    // two-core machine, and no cross-thread wake-ups inside the client to blur a
    // few-microsecond difference (the c=64 runs still interleave 64 tasks).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // `BENCH_ONLY=audit` or `exporter` runs that section alone.
    let only = std::env::var("BENCH_ONLY").ok();
    if only.is_none() {
        runtime.block_on(run());
    }
    drop(runtime);
    if only.as_deref() != Some("exporter") {
        audit::run();
    }
    if only.as_deref() != Some("audit") {
        exporter::run();
    }
}
