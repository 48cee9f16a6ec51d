// Browser test of the lts-mock console, in headless Debian Chromium.
//
// Starts `lts-mock --ui --port 0`, ships the log_app example into it (two
// threads), adds one hand-made batch whose events arrive out of time order,
// then drives the page: time order, filters, the timeline's lanes, and a
// fault switched on from the page producing retries (attempt 3) that the page
// shows. Screenshots go to target/console-artifacts/.
//
// Needs the binaries built first:
//   cargo build -p lts-mock --bins && cargo build -p examples --example log_app
// Run: (cd lts-mock/console-test && npm ci && npm test)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
const MOCK_BIN = path.join(TARGET, "debug", "lts-mock");
const LOG_APP = path.join(TARGET, "debug", "examples", "log_app");
const ARTIFACTS = path.join(TARGET, "console-artifacts");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT = { timeout: 20000 };

let mock, env, consoleUrl, browser, page;

/** Starts the mock and reads its address and `export` line. */
async function startMock() {
  const child = spawn(MOCK_BIN, ["--ui", "--port", "0", "--ring", "500"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr.resume();
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("lts-mock printed no address in 10 s:\n" + out)), 10000);
    child.stdout.on("data", (d) => {
      out += d;
      if (/^export .*$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`lts-mock exited with ${code}:\n${out}`)));
  });
  await ready;
  child.stdout.resume();
  const url = /^console: (http:\/\/\S+\/)/m.exec(out);
  assert.ok(url, "lts-mock --ui prints the console's address:\n" + out);
  const vars = {};
  for (const kv of /^export (.*)$/m.exec(out)[1].split(" ")) {
    const i = kv.indexOf("=");
    vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { child, url: url[1], vars };
}

/** Runs the log_app example against the mock; resolves when it exits 0. */
async function runLogApp() {
  const child = spawn(LOG_APP, [], { env: { ...process.env, ...env, RUST_LOG: "info" }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdout.resume();
  const [code] = await once(child, "exit");
  assert.equal(code, 0, "log_app failed:\n" + err);
}

async function api(pathAndQuery) {
  const r = await fetch(consoleUrl + pathAndQuery.replace(/^\//, ""));
  assert.equal(r.status, 200);
  return r.json();
}

/** Everything the mock keeps, straight from the API. */
async function allEvents() {
  const p = await api("/api/poll?limit=100000");
  return p.events;
}

async function rowTimes() {
  return page.$$eval("#rows tr", (trs) => trs.map((tr) => tr.dataset.timeNs));
}

async function shot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name) });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ({ child: mock, url: consoleUrl, vars: env } = await startMock());
  await runLogApp();
  // One batch whose events arrive in the opposite of their time order, from
  // a third thread, so the page's sort and lanes have something to show.
  const now = BigInt(Date.now()) * 1000000n;
  const line = (i) =>
    JSON.stringify({ level: i === 1 ? "WARN" : "INFO", target: "replay::batch", message: `replayed ${i}`, fields: { n: i }, thread: "replayer" });
  const body = {
    labels: { source: "console-test" },
    contents: [3, 2, 1].map((i) => ({ log_time_ns: (now + BigInt(i) * 180n).toString(), log: line(i) })),
  };
  const url = `${env.LTS_ENDPOINT}/v2/${env.LTS_PROJECT_ID}/lts/groups/${env.LTS_LOG_GROUP_ID}/streams/${env.LTS_LOG_STREAM_ID}/tenant/contents/high-accuracy`;
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json;charset=UTF-8", "X-Auth-Token": env.LTS_TOKEN },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.text());

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.errors = errors;
  await page.goto(consoleUrl);
});

after(async () => {
  await browser?.close();
  mock?.kill();
});

test("events appear sorted by log_time_ns, with exact gaps", async () => {
  const events = await allEvents();
  assert.equal(events.length, 7 + 3, "log_app logs 7 records at info, the replay 3");
  await page.waitForFunction((n) => document.querySelectorAll("#rows tr").length === n, events.length, WAIT);
  const shown = (await rowTimes()).map(BigInt);
  const expected = events.map((e) => BigInt(e.time_ns)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(shown, expected, "rows in time order, every event once");
  // The replayed batch arrived 3, 2, 1: the page shows 1, 2, 3, 180 ns apart.
  const replay = await page.$$eval("#rows tr[data-thread=replayer]", (trs) =>
    trs.map((tr) => [tr.querySelector("td.msg").textContent, tr.querySelector("td.gap").textContent]));
  assert.deepEqual(replay.map((r) => r[0]), ["replayed 1", "replayed 2", "replayed 3"]);
  assert.deepEqual(replay.slice(1).map((r) => r[1]), ["+180 ns", "+180 ns"]);
  const threads = new Set(await page.$$eval("#rows tr", (trs) => trs.map((tr) => tr.dataset.thread)));
  assert.deepEqual([...threads].sort(), ["main", "replayer", "worker"]);
  await shot("1-tail.png");
  assert.deepEqual(page.errors, []);
});

test("filters narrow the tail to exactly the matching events", async () => {
  const events = await allEvents();
  const count = () => page.$$eval("#rows tr", (trs) => trs.length);
  const waitRows = (n) => page.waitForFunction((n) => document.querySelectorAll("#rows tr").length === n, n, WAIT);

  await page.fill("#f-text", "job");
  const withJob = events.filter((e) => e.line.toLowerCase().includes("job")).length;
  assert.equal(withJob, 3);
  await waitRows(withJob);
  await shot("2-filter-text.png");
  await page.fill("#f-text", "");

  await page.uncheck("input[name=level][value=INFO]");
  const notInfo = events.filter((e) => JSON.parse(e.line).level !== "INFO").length;
  assert.equal(notInfo, 2, "one WARN from log_app, one from the replay");
  await waitRows(notInfo);
  await page.check("input[name=level][value=INFO]");

  await page.fill("#f-label", "source=console-test");
  await waitRows(3);
  await page.fill("#f-label", "");
  await page.fill("#f-field", "ok=true");
  await waitRows(events.filter((e) => JSON.parse(e.line).fields?.ok === true).length);
  await page.fill("#f-field", "");
  await page.fill("#f-target", "replay::");
  await waitRows(3);
  await page.fill("#f-target", "");

  const replayTimes = events.filter((e) => e.labels.source === "console-test").map((e) => BigInt(e.time_ns)).sort();
  await page.fill("#f-from", (replayTimes[0] + 1n).toString());
  await page.fill("#f-to", replayTimes[2].toString());
  await waitRows(2);
  await page.click("#f-reset");
  await waitRows(events.length);
  assert.equal(await count(), events.length);
});

test("the timeline draws one lane per thread and zooms to nanoseconds", async () => {
  await page.click("nav .tab[data-view=timeline]");
  await page.waitForFunction(() => document.querySelector("#timeline").dataset.lanes === "3", null, WAIT);
  const lanes = await page.$$eval("#tl-labels .lane-label", (ls) => ls.map((l) => l.dataset.thread));
  assert.deepEqual(lanes, ["main", "replayer", "worker"]);
  assert.equal(await page.$eval("#timeline", (c) => c.dataset.marks), "10");
  // Something was drawn: the canvas is not blank.
  const painted = await page.$eval("#timeline", (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 && d[i + 3] > 0) n++;
    return n;
  });
  assert.ok(painted > 100, `marks and ticks painted (${painted} dark pixels)`);
  await shot("3-timeline.png");
  for (let i = 0; i < 14; i++) await page.click("#tl-in");
  assert.match(await page.textContent("#tl-scale"), /^window 10 ns · \d+ pixels per ns · ticks every [12] ns$/);
  await page.click("#tl-fit");
  await page.click("nav .tab[data-view=events]");
});

test("a fault switched on from the page shows retries arriving", async () => {
  await page.click("nav .tab[data-view=events]");
  await page.fill("#fault-n", "2");
  await page.fill("#fault-status", "503");
  await page.click("#fault-fail-next");
  await page.waitForFunction(() => document.querySelector("#fault-state").textContent.includes("fail next 2 (503)"), null, WAIT);
  const faults = await api("/api/faults");
  assert.equal(faults.fail_next, 2);
  assert.equal(faults.fail_next_status, 503);

  await runLogApp(); // its batch meets two 503s, then goes through
  await page.waitForFunction(() => document.querySelectorAll('#rows tr[data-attempt="3"]').length === 7, null, WAIT);
  await page.click('#rows tr[data-attempt="3"] >> nth=-1');
  assert.equal(await page.textContent("#d-attempt"), "3");
  await shot("4-retried-event.png");

  await page.click("nav .tab[data-view=requests]");
  await page.waitForFunction(() => document.querySelectorAll('#req-rows tr[data-status="503"]').length === 2, null, WAIT);
  const reqs = await page.$$eval("#req-rows tr", (trs) => trs.map((tr) => [tr.dataset.status, tr.dataset.attempt]));
  assert.deepEqual(reqs, [["200", "1"], ["200", "1"], ["503", "1"], ["503", "2"], ["200", "3"]]);
  await shot("5-requests.png");
  await page.click("nav .tab[data-view=events]");
  await page.waitForFunction(() => document.querySelector("#fault-state").textContent === "none set", null, WAIT);
  assert.deepEqual(page.errors, []);
});
