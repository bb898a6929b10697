//! fakecloud-slim: a TEST-ONLY Route 53 + KMS server for dnssec-pilot's AWS end-to-end tests
//! (started by tests/peers/fakecloud.sh). It is never built by the main crate, never shipped.
//!
//! Derived from fakecloud 0.51.0's `src/main.rs` and `src/runtime.rs` (AGPL-3.0-or-later,
//! https://github.com/faiscadev/fakecloud): the same service crates (`fakecloud-route53`,
//! `fakecloud-kms`, pinned to =0.51.0), built and wired the way that main builds them, behind the
//! same `fakecloud_core::dispatch::dispatch` fallback with the same default `DispatchConfig`
//! (memory storage, no SigV4 verification, IAM off), so requests get fakecloud's own answers.
//! Only the ~100 other service crates, persistence, container runtimes and admin routes other than
//! `/_fakecloud/health` are left out. The Route 53 propagation defaults (a change turns INSYNC
//! after 1 s or 5 GetChange reads, `FAKECLOUD_ROUTE53_PROPAGATION_SECS`) live in
//! `fakecloud-route53` itself and so are unchanged.
//!
//! Licence: AGPL-3.0-or-later, as fakecloud.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::{Extension, Router};
use clap::{Parser, Subcommand};
use fakecloud_core::auth::IamMode;
use fakecloud_core::dispatch::{self, DispatchConfig};
use fakecloud_core::multi_account::MultiAccountState;
use fakecloud_core::registry::ServiceRegistry;
use parking_lot::RwLock;

/// The flags of fakecloud's CLI the tests and tests/peers/fakecloud.sh use (same names, defaults
/// and environment variables).
#[derive(Parser)]
#[command(name = "fakecloud-slim", version)]
#[command(about = "Test-only Route 53 + KMS subset of the fakecloud 0.51.0 AWS emulator")]
struct Cli {
    /// Listen address
    #[arg(long, default_value = "0.0.0.0:4566", env = "FAKECLOUD_ADDR")]
    addr: String,
    /// AWS region to advertise
    #[arg(long, default_value = "us-east-1", env = "FAKECLOUD_REGION")]
    region: String,
    /// AWS account ID to use
    #[arg(long, default_value = "123456789012", env = "FAKECLOUD_ACCOUNT_ID")]
    account_id: String,
    /// Log level (trace, debug, info, warn, error)
    #[arg(long, default_value = "info", env = "FAKECLOUD_LOG")]
    log_level: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Probe a running server's `/_fakecloud/health` on loopback at the port of `--addr`; exit 0
    /// when it answers 2xx, 1 otherwise.
    Healthcheck,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Some(Command::Healthcheck) = cli.command {
        std::process::exit(healthcheck(&cli.addr));
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log_level)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let listener = match tokio::net::TcpListener::bind(&cli.addr).await {
        Ok(l) => l,
        Err(e) => fatal(&format!("failed to bind {}: {e}", cli.addr)),
    };
    let bound = listener
        .local_addr()
        .unwrap_or_else(|e| fatal(&format!("no local address: {e}")));
    // fakecloud's port handshake line (for `--addr ...:0` callers).
    println!("FAKECLOUD_PORT={}", bound.port());
    tracing::info!(addr = %bound, "fakecloud-slim is ready");
    let endpoint = endpoint_url(bound);

    // State, created as fakecloud's main creates it. Route 53 gets the (here always empty)
    // CloudWatch Logs, ELBv2, CloudFront and S3 states and the EC2 VPC-owner lookup, as there.
    let kms_state: fakecloud_kms::SharedKmsState = Arc::new(RwLock::new(MultiAccountState::new(
        &cli.account_id,
        &cli.region,
        &endpoint,
    )));
    let route53_state: fakecloud_route53::SharedRoute53State =
        Arc::new(RwLock::new(fakecloud_route53::Route53Accounts::new()));
    let logs_state: fakecloud_logs::SharedLogsState = Arc::new(RwLock::new(
        MultiAccountState::new(&cli.account_id, &cli.region, &endpoint),
    ));
    let s3_state: fakecloud_s3::SharedS3State = Arc::new(RwLock::new(MultiAccountState::new(
        &cli.account_id,
        &cli.region,
        &endpoint,
    )));
    let elbv2_state: fakecloud_elbv2::SharedElbv2State =
        Arc::new(RwLock::new(fakecloud_elbv2::Elbv2Accounts::new()));
    let cloudfront_state: fakecloud_cloudfront::SharedCloudFrontState =
        Arc::new(RwLock::new(fakecloud_cloudfront::CloudFrontAccounts::new()));
    // fakecloud's main seeds EC2 state this way (account 000000000000 with its default VPC).
    let ec2_state: fakecloud_ec2::SharedEc2State = Arc::new(RwLock::new(MultiAccountState::new(
        "000000000000",
        "us-east-1",
        "",
    )));

    let mut registry = ServiceRegistry::new();
    // KMS: no quota provider; fakecloud's Service Quotas provider enforces nothing unless
    // `--enforce-quotas`/`--enforce-quota` is given, and `KmsService` without one is the same.
    registry.register(Arc::new(fakecloud_kms::KmsService::new(kms_state)));
    let vpc_owner: fakecloud_route53::VpcOwnerLookup = {
        let ec2 = ec2_state.clone();
        Arc::new(move |vpc_id: &str, _region: &str| {
            ec2.read()
                .iter()
                .find(|(_, st)| st.vpcs.contains_key(vpc_id))
                .map(|(account, _)| account.to_string())
        })
    };
    registry.register(Arc::new(
        fakecloud_route53::Route53Service::new(route53_state)
            .with_logs(logs_state)
            .with_elbv2(elbv2_state)
            .with_cloudfront(cloudfront_state)
            .with_s3(s3_state)
            .with_vpc_owner_lookup(vpc_owner),
    ));

    // fakecloud's defaults: no `--verify-sigv4`, `--iam off`. Its credential resolver and policy
    // evaluators read IAM state, which no service here can fill, so they would resolve nothing.
    let config = DispatchConfig {
        region: cli.region.clone(),
        account_id: cli.account_id.clone(),
        verify_sigv4: false,
        iam_mode: IamMode::Off,
        credential_resolver: None,
        policy_evaluator: None,
        resource_policy_provider: None,
        scp_resolver: None,
    };
    let services: Vec<String> = registry
        .service_names()
        .iter()
        .map(|s| s.to_string())
        .collect();

    let app = Router::new()
        .route(
            "/_fakecloud/health",
            axum::routing::get(move || {
                let services = services.clone();
                async move {
                    // fakecloud_sdk::types::HealthResponse's shape.
                    axum::Json(serde_json::json!({
                        "status": "ok",
                        "version": env!("CARGO_PKG_VERSION"),
                        "services": services,
                    }))
                }
            }),
        )
        .fallback(dispatch::dispatch)
        .layer(Extension(Arc::new(registry)))
        .layer(Extension(Arc::new(config)))
        .layer(tower_http::trace::TraceLayer::new_for_http());

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .unwrap_or_else(|e| fatal(&format!("server error: {e}")));
}

fn fatal(msg: &str) -> ! {
    tracing::error!("{msg}");
    eprintln!("fakecloud-slim: {msg}");
    std::process::exit(1);
}

/// `http://host:port` of the bound address; a wildcard host becomes `localhost`.
fn endpoint_url(addr: SocketAddr) -> String {
    match addr.ip() {
        ip if ip.is_unspecified() => format!("http://localhost:{}", addr.port()),
        IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}

/// fakecloud's `healthcheck`: GET /_fakecloud/health over plain TCP on the loopback of
/// `--addr`'s host (both loopbacks for a wildcard or non-IP host).
fn healthcheck(addr: &str) -> i32 {
    let parsed = match addr.strip_prefix('[') {
        Some(rest) => rest
            .split_once(']')
            .and_then(|(h, t)| Some((h, t.strip_prefix(':')?))),
        None => addr.rsplit_once(':'),
    };
    let Some((host, port)) = parsed.and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?))) else {
        eprintln!("healthcheck: could not parse host:port from addr {addr:?}");
        return 1;
    };
    let candidates = match host.parse::<IpAddr>() {
        Ok(ip) if !ip.is_unspecified() => vec![ip],
        _ => vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ],
    };
    if candidates.iter().any(|ip| probe(*ip, port)) {
        return 0;
    }
    eprintln!("healthcheck: no healthy response on port {port} (tried {candidates:?})");
    1
}

fn probe(ip: IpAddr, port: u16) -> bool {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(2);
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&SocketAddr::new(ip, port), timeout)
    else {
        return false;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let req = "GET /_fakecloud/health HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut resp = String::new();
    if s.write_all(req.as_bytes()).is_err() || s.read_to_string(&mut resp).is_err() {
        return false;
    }
    resp.lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .is_some_and(|code| code.starts_with('2'))
}
