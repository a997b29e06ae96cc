// Plays the phone's browser in the QR (CIBA + PAR) flow: opens the authentication_uri that the
// TV showed as a QR code, picks a test identity and approves (or rejects).
//
//   node tests/browser/authorize.mjs <authentication_uri> <user_id> [approve|reject]
//
// Setup: `npm ci --prefix tests/browser` and Debian's `chromium`.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, userId, decision = "approve"] = process.argv.slice(2);
if (!url || !userId || !["approve", "reject"].includes(decision)) {
  console.error("usage: authorize.mjs <authentication_uri> <user_id> [approve|reject]");
  process.exit(2);
}

const userDataDir = mkdtempSync(join(tmpdir(), "mitid-flex-authorize-"));
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
  await page.goto(url, { waitUntil: "domcontentloaded" });
  await page.locator(`#identity-${userId}`).check();
  await Promise.all([page.waitForLoadState("domcontentloaded"), page.locator(`#${decision}`).click()]);
  const body = await page.locator("body").innerText();
  console.log(JSON.stringify({ ok: true, decision, page: body.slice(0, 200) }));
} catch (e) {
  console.error(`authorize.mjs: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
