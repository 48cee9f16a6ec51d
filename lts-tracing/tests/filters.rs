//! Per-layer filters decide what LTS gets, exactly, and nothing else: a
//! layer beside it still sees everything.

mod common;

use common::{config, delivered, Seen};
use lts_mock::MockLts;
use tracing::Level;
use tracing_subscriber::filter::{filter_fn, LevelFilter, Targets};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// Emits one event per (target, level) pair, 4 targets x 5 levels.
fn emit_grid() {
    macro_rules! all_levels {
        ($target:literal) => {
            tracing::error!(target: $target, "e");
            tracing::warn!(target: $target, "w");
            tracing::info!(target: $target, "i");
            tracing::debug!(target: $target, "d");
            tracing::trace!(target: $target, "t");
        };
    }
    all_levels!("app");
    all_levels!("app::db");
    all_levels!("app::http");
    all_levels!("noisy_dep");
}

/// Ships the grid through an LTS layer wrapped in `filter`, beside an
/// unfiltered layer; returns "target level" of what LTS got, and how many
/// events the other layer saw.
fn run<F>(filter: F) -> (Vec<String>, usize)
where
    F: tracing_subscriber::layer::Filter<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .with(seen.clone());
    tracing::subscriber::with_default(subscriber, emit_grid);
    let got = delivered(&shipper, &mock)
        .into_iter()
        .map(|g| {
            format!(
                "{} {}",
                g.json["target"].as_str().unwrap(),
                g.json["level"].as_str().unwrap()
            )
        })
        .collect();
    (got, seen.targets().len())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn targets_filter() {
    let filter = Targets::new()
        .with_target("app", Level::WARN)
        .with_target("app::db", Level::DEBUG);
    let (got, others) = run(filter);
    assert_eq!(
        got,
        strings(&[
            "app ERROR",
            "app WARN",
            "app::db ERROR",
            "app::db WARN",
            "app::db INFO",
            "app::db DEBUG",
            "app::http ERROR",
            "app::http WARN",
        ])
    );
    assert_eq!(others, 20);
}

#[test]
fn env_filter() {
    let (got, others) = run(EnvFilter::new("error,app::http=info,noisy_dep=off"));
    assert_eq!(
        got,
        strings(&[
            "app ERROR",
            "app::db ERROR",
            "app::http ERROR",
            "app::http WARN",
            "app::http INFO"
        ])
    );
    assert_eq!(others, 20);
}

#[test]
fn level_filter() {
    let (got, others) = run(LevelFilter::WARN);
    assert_eq!(
        got,
        strings(&[
            "app ERROR",
            "app WARN",
            "app::db ERROR",
            "app::db WARN",
            "app::http ERROR",
            "app::http WARN",
            "noisy_dep ERROR",
            "noisy_dep WARN",
        ])
    );
    assert_eq!(others, 20);
}

#[test]
fn filter_fn_filter() {
    let (got, others) = run(filter_fn(|m| m.target() == "noisy_dep" && *m.level() <= Level::INFO));
    assert_eq!(got, strings(&["noisy_dep ERROR", "noisy_dep WARN", "noisy_dep INFO"]));
    assert_eq!(others, 20);
}

#[test]
fn no_filter_ships_everything() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit_grid);
    assert_eq!(delivered(&shipper, &mock).len(), 20);
}

#[test]
fn a_filter_on_the_other_layer_does_not_affect_lts() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(seen.clone().with_filter(LevelFilter::ERROR));
    tracing::subscriber::with_default(subscriber, emit_grid);
    assert_eq!(delivered(&shipper, &mock).len(), 20);
    assert_eq!(seen.targets().len(), 4);
}

#[test]
fn the_documented_idiom_composes_with_fmt() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let subscriber = tracing_subscriber::registry()
        .with(layer.with_filter(EnvFilter::new("app=info")))
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, emit_grid);
    assert_eq!(delivered(&shipper, &mock).len(), 9);
}
