/// <reference lib="dom" />
/**
 * The eval report in a real browser (Debian chromium driven by playwright-core): a short real
 * `kestrel eval` run writes report.html; the page must load offline with no console errors,
 * every uPlot canvas and SVG plot must hold drawing, and a full-page screenshot is saved to
 * out/report-screenshot.png (kept by CI as an artefact). Skips, saying why, without chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runEval } from '../cli/commands/eval.js';

const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`report-browser.test: SKIPPED, no chromium at ${CHROMIUM} (apt-get install -y chromium, or set KESTREL_CHROMIUM)`);

export const SCREENSHOT = resolve('out', 'report-screenshot.png');

describe.skipIf(!haveChromium)('eval report in chromium', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('loads offline with no console errors, draws every plot, and is screenshotted', async () => {
    const out = mkdtempSync(join(tmpdir(), 'kestrel-report-'));
    dirs.push(out);
    // Deterministic latency model: the same short run every time; long enough for frames with detections.
    await runEval(['stranded-bag', '--duration', '12', '--latency', 'config/latency/pi5.json', '--out', out, '--ros-args', '-p', 'isolation:=inprocess']);
    const { chromium } = await import('playwright-core');
    // playwright's launch gives the browser a fresh temporary profile (user-data-dir) each time.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 240_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      // Offline: nothing outside the file may be fetched.
      const ctx = await browser.newContext({ viewport: { width: 1320, height: 900 }, offline: true });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      await page.goto(pathToFileURL(join(out, 'report.html')).href, { timeout: 240_000 });
      await page.waitForSelector('body[data-rendered="1"]', { timeout: 60_000 });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const plots = await page.evaluate(() => {
        const inked = (c: HTMLCanvasElement): boolean => {
          const g = c.getContext('2d');
          if (!g || c.width === 0 || c.height === 0) return false;
          const d = g.getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
          return false;
        };
        const canvases = Array.from(document.querySelectorAll('canvas'));
        const svgCount = (sel: string): number => document.querySelectorAll(sel).length;
        return {
          canvases: canvases.length,
          empty: canvases.filter((c) => !inked(c)).map((c) => c.closest('[id]')?.id ?? '?'),
          inSections: ['commands', 'e2e', 'drops', 'energy', 'stages'].map((id) => [id, document.querySelectorAll(`#${id} canvas`).length] as const),
          timelineBars: svgCount('#timeline svg rect'),
          timelineText: Array.from(document.querySelectorAll('#timeline svg text')).map((t) => t.textContent ?? '').join('|'),
          mapShapes: svgCount('#map svg polygon') + svgCount('#map svg polyline'),
          plansSvg: svgCount('#plans svg'),
          frames: svgCount('#frames svg image'),
          text: document.body.innerText,
        };
      });
      expect(plots.empty).toEqual([]);
      for (const [id, n] of plots.inSections) expect(n, `canvases in #${id}`).toBeGreaterThan(0);
      // 12 s ends before the bag's truth onset (~47 s): the timeline has its rows and says the event never started.
      expect(plots.timelineText).toContain('expected alert: ');
      expect(plots.timelineBars > 0 || plots.timelineText.includes('the event never started')).toBe(true);
      expect(plots.mapShapes).toBeGreaterThan(0);
      expect(plots.plansSvg).toBe(1);
      expect(plots.frames).toBeGreaterThan(0);
      // Numbers are rounded for reading: no float noise like 36.26983544921875.
      expect(plots.text).not.toMatch(/\d\.\d{5,}/);
      mkdirSync(resolve('out'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(existsSync(SCREENSHOT)).toBe(true);
      console.log(`report screenshot: ${SCREENSHOT}`);
    } finally {
      await browser.close();
    }
  }, 900_000);
});
