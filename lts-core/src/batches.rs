//! The open batches: one for each destination (route) and set of label
//! values taken from the record's fields, each under its own caps and
//! linger, each ending its body with its own labels and tenant.
//!
//! How many batches with label values are open at once is bounded
//! (`max_open_batches`): a record that would open one more goes to its
//! route's overflow batch, whose label fields all read [`OVERFLOW_VALUE`].
//! Each route's batch without label values and its overflow batch are
//! always allowed, so at most `max_open_batches` plus twice the number of
//! destinations are open. Nothing is dropped for it: the record is counted
//! (`label_overflow`) and the worker reports it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::batch::{Builder, Sealed};
use crate::config::Config;
use crate::destination::{Destination, Destinations};
use crate::encode::{batch_tail, Api};
use crate::record::Record;
use crate::route::Router;

/// The value of every label field of an overflow batch.
pub(crate) const OVERFLOW_VALUE: &str = "(overflow)";

/// The longest label value taken from a field, in bytes; a longer value is
/// cut at a character boundary (a label is a short name, and the bound
/// keeps a batch's overhead, and so the longest line it can carry, known).
pub(crate) const MAX_LABEL_VALUE_BYTES: usize = 128;

/// Which open batch a record goes to: its route, and the values of the
/// label fields (`None` where the record has no such field).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct BatchKey {
    pub(crate) route: usize,
    pub(crate) values: Box<[Option<String>]>,
}

/// A record's batch, as [`OpenBatches::key`] chose it.
#[derive(Debug)]
pub(crate) struct Chosen {
    pub(crate) key: BatchKey,
    /// The record goes to its route's overflow batch: the bound was reached.
    pub(crate) overflowed: bool,
}

/// Every open batch, by key, and what it takes to open one more.
pub(crate) struct OpenBatches {
    /// Each route's batch without label values, by route index: found
    /// without a search, as every record is when there are no label fields.
    plain: Vec<Option<Builder>>,
    /// The batches with label values (the overflow ones among them).
    open: BTreeMap<BatchKey, Builder>,
    /// Open batches that count against `max_open`.
    labelled: usize,
    router: Router,
    label_fields: Vec<String>,
    max_open: usize,
    destinations: Arc<Destinations>,
    /// The labels of each route's batches (common ones and the route's own),
    /// by route index.
    labels: Vec<BTreeMap<String, String>>,
    /// The tenant of each route's batches, by route index.
    tenants: Vec<Option<String>>,
    api: Api,
    max_events: usize,
    max_bytes: usize,
    linger: Duration,
}

impl OpenBatches {
    pub(crate) fn new(config: &Config, destinations: Arc<Destinations>) -> OpenBatches {
        let mut labels = vec![config.labels.clone()];
        let mut tenants = vec![config.tenant_project_id.clone()];
        for r in &config.routes {
            let mut l = config.labels.clone();
            l.extend(r.labels().map(|(k, v)| (k.to_owned(), v.to_owned())));
            labels.push(l);
            tenants.push(
                r.tenant_project_id()
                    .or(config.tenant_project_id.as_deref())
                    .map(str::to_owned),
            );
        }
        OpenBatches {
            plain: (0..labels.len()).map(|_| None).collect(),
            open: BTreeMap::new(),
            labelled: 0,
            router: Router::new(&config.routes),
            label_fields: config.label_fields.clone(),
            max_open: config.max_open_batches,
            destinations,
            labels,
            tenants,
            api: config.api,
            max_events: config.batch_max_events,
            max_bytes: config.batch_max_bytes,
            linger: config.linger,
        }
    }

    /// The longest escaped line any batch can carry: that of the batch
    /// with the longest labels (label values at their longest, every
    /// character escaped).
    pub(crate) fn max_escaped_line(&self) -> usize {
        let worst = (0..self.labels.len())
            .map(|route| {
                let values = self
                    .label_fields
                    .iter()
                    .map(|_| Some("\u{1}".repeat(MAX_LABEL_VALUE_BYTES)));
                self.tail(&BatchKey {
                    route,
                    values: values.collect(),
                })
                .len()
            })
            .max()
            .unwrap_or(0);
        Builder::new(
            self.api,
            " ".repeat(worst),
            self.max_events,
            self.max_bytes,
            self.linger,
        )
        .max_escaped_line()
    }

    /// The batch a record goes to, by its target, level and fields.
    pub(crate) fn key(&self, record: &Record) -> Chosen {
        let route = self.router.route(&record.target, record.level);
        let values: Box<[Option<String>]> = match self.label_fields.is_empty() {
            true => Box::default(),
            false => self.label_fields.iter().map(|f| field_text(record, f)).collect(),
        };
        let key = BatchKey { route, values };
        if !self.is_bounded(&key) || self.labelled < self.max_open || self.open.contains_key(&key) {
            return Chosen { key, overflowed: false };
        }
        Chosen {
            key: self.overflow_key(route),
            overflowed: true,
        }
    }

    /// The default stream's batch without label values: where the
    /// pipeline's own reports go.
    pub(crate) fn base(&self) -> BatchKey {
        BatchKey {
            route: 0,
            values: self.label_fields.iter().map(|_| None).collect(),
        }
    }

    fn overflow_key(&self, route: usize) -> BatchKey {
        let values = self
            .label_fields
            .iter()
            .map(|_| Some(OVERFLOW_VALUE.to_owned()))
            .collect();
        BatchKey { route, values }
    }

    /// Whether `key` counts against the bound: it has label values, and is
    /// not its route's overflow batch.
    fn is_bounded(&self, key: &BatchKey) -> bool {
        key.values.iter().any(Option::is_some) && !key.values.iter().all(|v| v.as_deref() == Some(OVERFLOW_VALUE))
    }

    /// The open batch of `key`, opened if need be.
    pub(crate) fn get(&mut self, key: &BatchKey) -> &mut Builder {
        if is_plain(key) {
            // Route indices come from the router: each has its slot.
            if self.plain[key.route].is_none() {
                let builder = Builder::new(self.api, self.tail(key), self.max_events, self.max_bytes, self.linger);
                self.plain[key.route] = Some(builder);
            }
            return self.plain[key.route].as_mut().expect("opened above");
        }
        // `entry` would clone the key (its label values) for every record.
        if !self.open.contains_key(key) {
            let builder = Builder::new(self.api, self.tail(key), self.max_events, self.max_bytes, self.linger);
            self.labelled += usize::from(self.is_bounded(key));
            return self.open.entry(key.clone()).or_insert(builder);
        }
        self.open.get_mut(key).expect("checked above")
    }

    /// Whether `key` has an open batch holding events or losses.
    pub(crate) fn has(&self, key: &BatchKey) -> bool {
        let open = match is_plain(key) {
            true => self.plain.get(key.route).and_then(Option::as_ref),
            false => self.open.get(key),
        };
        open.is_some_and(|b| !b.is_empty() || b.lost_before() > 0)
    }

    /// Closes the batch of `key`: its content and destination, or `None`
    /// when it holds nothing.
    pub(crate) fn take(&mut self, key: &BatchKey) -> Option<(Sealed, Arc<Destination>)> {
        let mut builder = match is_plain(key) {
            true => self.plain.get_mut(key.route)?.take()?,
            false => {
                let b = self.open.remove(key)?;
                self.labelled -= usize::from(self.is_bounded(key));
                b
            }
        };
        if builder.is_empty() && builder.lost_before() == 0 {
            return None;
        }
        Some((builder.take(), self.destinations.get(key.route).clone()))
    }

    /// The keys of every open batch (see [`OpenBatches::all`]).
    pub(crate) fn keys(&self) -> Vec<BatchKey> {
        self.all().map(|(k, _)| k).collect()
    }

    /// The keys of the batches whose linger ended by `now`.
    pub(crate) fn due(&self, now: Instant) -> Vec<BatchKey> {
        self.all()
            .filter(|(_, b)| b.linger_deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| k)
            .collect()
    }

    /// When the first open batch must be sealed, if one holds anything.
    pub(crate) fn linger_deadline(&self) -> Option<Instant> {
        self.builders().filter_map(Builder::linger_deadline).min()
    }

    /// Whether no batch holds an event.
    pub(crate) fn is_empty(&self) -> bool {
        self.builders().all(Builder::is_empty)
    }

    /// Every open batch.
    fn builders(&self) -> impl Iterator<Item = &Builder> + '_ {
        self.plain.iter().flatten().chain(self.open.values())
    }

    /// Every open batch with its key: the batches without label values
    /// first, by route, then the others in key order.
    fn all(&self) -> impl Iterator<Item = (BatchKey, &Builder)> + '_ {
        let plain = self.plain.iter().enumerate().filter_map(|(route, b)| {
            let values = self.label_fields.iter().map(|_| None).collect();
            b.as_ref().map(|b| (BatchKey { route, values }, b))
        });
        plain.chain(self.open.iter().map(|(k, b)| (k.clone(), b)))
    }

    /// Counts a record given up on before it reached a batch (on the base
    /// batch, which a flush seals).
    pub(crate) fn add_lost(&mut self, n: u64) {
        let base = self.base();
        self.get(&base).add_lost(n);
    }

    /// The bound on open batches with label values.
    pub(crate) fn max_open(&self) -> usize {
        self.max_open
    }

    /// Batches open now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.builders().count()
    }

    fn tail(&self, key: &BatchKey) -> String {
        let route = key.route.min(self.labels.len() - 1);
        let mut labels = self.labels[route].clone();
        for (name, value) in self.label_fields.iter().zip(key.values.iter()) {
            if let Some(v) = value {
                labels.insert(name.clone(), v.clone());
            }
        }
        batch_tail(&labels, self.tenants[route].as_deref())
    }
}

/// Whether `key` names its route's batch without label values.
fn is_plain(key: &BatchKey) -> bool {
    key.values.iter().all(Option::is_none)
}

/// The value of field `name` as label text: the record's own field, else
/// that of its innermost span that has one; cut to [`MAX_LABEL_VALUE_BYTES`].
fn field_text(record: &Record, name: &str) -> Option<String> {
    let value = record.fields.iter().find(|f| &*f.name == name).or_else(|| {
        record
            .spans
            .iter()
            .rev()
            .find_map(|s| s.fields.iter().find(|f| &*f.name == name))
    })?;
    let mut text = value.value.to_string();
    if text.len() > MAX_LABEL_VALUE_BYTES {
        let mut end = MAX_LABEL_VALUE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Level, SpanInfo};
    use crate::route::Route;
    use crate::value::Fields;

    const GROUP: &str = "0a1b2c3d-0000-4000-8000-000000000001";
    const STREAM: &str = "0a1b2c3d-0000-4000-8000-000000000002";
    const AUDIT: &str = "0a1b2c3d-0000-4000-8000-0000000000a1";
    const TENANT: &str = "fedcba9876543210fedcba9876543210";

    fn batches(builder: impl FnOnce(crate::config::ConfigBuilder) -> crate::config::ConfigBuilder) -> OpenBatches {
        let config = builder(
            Config::builder()
                .endpoint("http://127.0.0.1:8102")
                .project_id("0123456789abcdef0123456789abcdef")
                .log_group_id(GROUP)
                .log_stream_id(STREAM)
                .token("tok")
                .label("app", "shop"),
        )
        .build()
        .unwrap();
        OpenBatches::new(&config, Arc::new(config.destinations()))
    }

    fn push(b: &mut OpenBatches, record: &Record) -> Chosen {
        let chosen = b.key(record);
        b.get(&chosen.key)
            .push(record.time_ns, "\"x\"", 1, false, Instant::now());
        chosen
    }

    fn body(sealed: &Sealed) -> serde_json::Value {
        serde_json::from_str(&sealed.raw).unwrap()
    }

    #[test]
    fn records_with_different_label_values_travel_in_different_batches_each_labelled() {
        let mut b = batches(|c| c.label_field("tenant"));
        let acme = Record::new(1, Level::Info, "app", "m").with_field("tenant", "acme");
        let mut in_span = Record::new(2, Level::Info, "app", "m");
        let mut fields = Fields::new();
        fields.push(crate::value::Field::new("tenant", "globex"));
        in_span.spans.push(Arc::new(SpanInfo {
            id: 1,
            name: "req".into(),
            fields,
        }));
        let none = Record::new(3, Level::Info, "app", "m");
        let keys: Vec<BatchKey> = [&acme, &in_span, &none, &acme]
            .iter()
            .map(|r| push(&mut b, r).key)
            .collect();
        assert_eq!(keys[0], keys[3]);
        assert_eq!(b.len(), 3);
        let labels: Vec<serde_json::Value> = keys[..3]
            .iter()
            .map(|k| {
                let (sealed, dest) = b.take(k).unwrap();
                assert_eq!(
                    (dest.log_group_id.as_str(), dest.log_stream_id.as_str()),
                    (GROUP, STREAM)
                );
                body(&sealed)["labels"].clone()
            })
            .collect();
        assert_eq!(labels[0], serde_json::json!({"app": "shop", "tenant": "acme"}));
        assert_eq!(labels[1], serde_json::json!({"app": "shop", "tenant": "globex"}));
        assert_eq!(labels[2], serde_json::json!({"app": "shop"}));
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn past_the_bound_new_label_values_go_to_the_overflow_batch_and_the_bound_holds() {
        let mut b = batches(|c| c.label_field("tenant").max_open_batches(3));
        let mut overflowed = 0;
        for i in 0..50 {
            let r = Record::new(i, Level::Info, "app", "m").with_field("tenant", format!("t{}", i % 10));
            overflowed += usize::from(push(&mut b, &r).overflowed);
            // Three labelled batches and the overflow one, never more.
            assert!(b.len() <= 4, "{} open after record {i}", b.len());
        }
        // t0, t1, t2 keep their batches; the 7 other tenants, 5 records each, overflow.
        assert_eq!(overflowed, 35);
        assert_eq!(b.len(), 4);
        let overflow = b.overflow_key(0);
        let (sealed, _) = b.take(&overflow).unwrap();
        assert_eq!(sealed.events, 35);
        assert_eq!(body(&sealed)["labels"]["tenant"], OVERFLOW_VALUE);
        // A batch sealed frees its place: the next new value opens one.
        let t0 = b
            .key(&Record::new(0, Level::Info, "app", "m").with_field("tenant", "t0"))
            .key;
        b.take(&t0).unwrap();
        let r = Record::new(0, Level::Info, "app", "m").with_field("tenant", "t9");
        assert!(!push(&mut b, &r).overflowed);
    }

    #[test]
    fn a_route_sends_to_its_stream_with_its_labels_and_tenant() {
        let mut b = batches(|c| {
            c.route(
                Route::new("audit", AUDIT)
                    .with_label("kind", "audit")
                    .with_tenant_project_id(TENANT),
            )
        });
        let audit = push(&mut b, &Record::new(1, Level::Info, "audit::login", "m"));
        let other = push(&mut b, &Record::new(2, Level::Info, "app", "m"));
        assert_eq!((audit.key.route, other.key.route), (1, 0));
        let (sealed, dest) = b.take(&audit.key).unwrap();
        assert_eq!((dest.route, dest.log_stream_id.as_str()), (1, AUDIT));
        assert!(
            dest.path.ends_with(&format!(
                "/groups/{GROUP}/streams/{AUDIT}/tenant/contents/high-accuracy"
            )),
            "{}",
            dest.path
        );
        let v = body(&sealed);
        assert_eq!(v["labels"], serde_json::json!({"app": "shop", "kind": "audit"}));
        assert_eq!(v["tenant_project_id"], TENANT);
        let (sealed, dest) = b.take(&other.key).unwrap();
        assert_eq!(dest.log_stream_id, STREAM);
        assert!(body(&sealed).get("tenant_project_id").is_none());
    }

    #[test]
    fn a_long_label_value_is_cut_at_a_character_boundary() {
        let mut b = batches(|c| c.label_field("tenant"));
        let long = "é".repeat(100); // 200 bytes
        let chosen = push(
            &mut b,
            &Record::new(1, Level::Info, "app", "m").with_field("tenant", long.as_str()),
        );
        let value = chosen.key.values[0].clone().unwrap();
        assert_eq!(value, "é".repeat(64));
        assert!(
            b.max_escaped_line()
                < Builder::new(Api::HighAccuracy, String::new(), 1000, 1 << 20, Duration::ZERO).max_escaped_line()
        );
    }
}
