//! Events inside instrumented tokio tasks carry the task's spans, on the
//! runtime's worker threads, with many tasks interleaving.

mod common;

use common::{config, delivered, span_names};
use lts_mock::MockLts;
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

#[tracing::instrument(fields(step = tracing::field::Empty))]
async fn handle(task: u64) {
    for step in 0..3u64 {
        tracing::Span::current().record("step", step);
        tracing::info!(task, step, "working");
        tokio::task::yield_now().await;
    }
}

#[test]
fn events_in_instrumented_tasks_carry_the_task_spans() {
    let mock = MockLts::start().unwrap();
    let (layer, _guard) = lts_tracing::layer(config(&mock).build().unwrap()).unwrap();
    let shipper = layer.shipper().clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("task-worker")
        .build()
        .unwrap();

    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        runtime.block_on(async {
            let tasks: Vec<_> = (0..8u64)
                .map(|task| {
                    let span = tracing::info_span!("task", task);
                    // The subscriber is this thread's default: the task takes it along.
                    tokio::spawn(handle(task).instrument(span).with_current_subscriber())
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // An event outside every task has no context.
        tracing::info!("done");
    });

    let got = delivered(&shipper, &mock);
    assert_eq!(got.len(), 8 * 3 + 1);
    let (outside, inside) = got.split_last().unwrap();
    assert_eq!(outside.json["message"], "done");
    assert!(outside.json.get("spans").is_none());
    let mut per_task = [0u64; 8];
    for g in inside {
        let j = &g.json;
        let task = j["fields"]["task"].as_u64().unwrap();
        let step = j["fields"]["step"].as_u64().unwrap();
        assert_eq!(span_names(j), vec!["task", "handle"], "{}", g.line);
        // The task's own spans, never another task's.
        assert_eq!(j["spans"][0]["fields"], json!({ "task": task }));
        assert_eq!(j["spans"][1]["fields"], json!({ "task": task, "step": step }));
        // Polled on a runtime worker, not on the test's thread.
        assert_eq!(j["thread"], "task-worker");
        per_task[task as usize] += 1;
    }
    assert_eq!(per_task, [3; 8]);
}
