// Takes the README screenshot of a running chat: three users talk in #general.
// Usage: node examples/chat/scripts/screenshot.mjs http://localhost:8787 docs/chat.png
import { chromium } from 'playwright-core';

const [url = 'http://localhost:8787', out = 'docs/chat.png'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

async function join(name, width = 1200, height = 720) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 2 });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByTestId('composer').waitFor();
  return page;
}

async function say(page, text) {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
  await page.getByTestId('message-text').getByText(text, { exact: true }).waitFor();
}

const ada = await join('Ada Lovelace');
const grace = await join('Grace Hopper');
const linus = await join('Linus');

await say(grace, 'Morning! The 2.4 release candidate is green on every platform 🎉');
await say(ada, 'Great news. Did the migration run on staging?');
await say(grace, 'Yes, 1.2M rows in 40 seconds, no locks.');
await say(linus, 'I checked the dashboards, error rate is flat.');
await say(ada, 'Then let’s ship it after lunch. I’ll write the changelog.');
await grace.getByTestId('message-text').getByText('Then let’s ship it after lunch.', { exact: false }).waitFor();

for (const [page, text, emoji] of [
  [ada, 'release candidate is green', '🎉'],
  [linus, 'release candidate is green', '🎉'],
  [grace, 'ship it after lunch', '👍'],
  [linus, 'ship it after lunch', '👍'],
]) {
  const msg = page.getByTestId('message').filter({ hasText: text });
  await msg.hover();
  await msg.getByTestId(`react-${emoji}`).click();
}
await linus.getByTestId('room-random').click();
await say(linus, 'Anyone up for tacos?');
await linus.getByTestId('room-general').click();
await linus.getByTestId('composer').fill('Sounds good, I will');
await ada.getByTestId('typing').getByText('Linus is typing').waitFor();
await ada.getByTestId('unread-random').waitFor();
await ada.getByTestId('seen-by').first().waitFor();
await ada.mouse.move(5, 5);
await ada.screenshot({ path: out });
await browser.close();
console.log(`saved ${out}`);
