// Loads the simulator's /phone page in headless Chromium and clicks Approve (or Reject) for
// one auth_req_id, the way a person would. Used by tests/sim_phone_browser.rs.
//
//   node tests/browser/approve.mjs <phone_url> <auth_req_id> [approve|reject]
//
// Setup: `npm install --prefix tests/browser` and `apt-get install chromium`.
// CHROMIUM overrides the browser path (default /usr/bin/chromium).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [phoneUrl, authReqId, decision = "approve"] = process.argv.slice(2);
if (!phoneUrl || !authReqId || !["approve", "reject"].includes(decision)) {
  console.error("usage: approve.mjs <phone_url> <auth_req_id> [approve|reject]");
  process.exit(2);
}

const userDataDir = mkdtempSync(join(tmpdir(), "mitid-flex-sim-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(phoneUrl, { waitUntil: "domcontentloaded" });

  // The page learns about the request by itself (it refreshes every second).
  const card = page.locator(`.card[data-auth-req-id="${authReqId}"]`);
  await card.waitFor({ state: "visible", timeout: 10_000 });
  const text = await card.locator(".ref").innerText();
  const button = page.locator(`button[data-action="${decision}"][data-auth-req-id="${authReqId}"]`);
  await button.click();

  // After the click the request leaves the pending list.
  await card.waitFor({ state: "detached", timeout: 10_000 });
  const status = await page.locator("#status").innerText();
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ ok: true, decision, reference_text: text, status }));
} catch (e) {
  console.error(`approve.mjs: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
