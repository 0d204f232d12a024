// End-to-end: the widget, the demo and the moderation page in headless
// Chromium against the real daemon.  Run by run.py, which starts the daemons:
//   BASE_OPEN  a daemon that publishes at once (moderation = none)
//   BASE_HELD  a daemon that holds every comment (moderation = all) and
//              calls every widget post too fast (min_submit_seconds 3600)
//   ADMIN_TOKEN an admin token for BASE_HELD, display name "Sjef Kerkhofs"
//   SITES_PORT a daemon serving two sites: alpha at http://127.0.0.1:PORT,
//              beta at http://localhost:PORT; SITES_TOKEN sees both,
//              SITES_ALPHA_TOKEN only alpha
// The tests run in order and build on each other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const OPEN = process.env.BASE_OPEN;
const HELD = process.env.BASE_HELD;
const TOKEN = process.env.ADMIN_TOKEN;
const OUT = process.env.E2E_OUT || 'e2e-out';
const SHOTS = process.env.SCREENSHOTS || '';
const T = '/2011/01/social-media-realities';
const EMAILS = ['danny@example.nl', 'sjef@example.nl', 'reader@example.org', 'leser@example.de', 'wacht@example.nl'];
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
const problems = []; // CSP violations and page errors, from every page

before(async () => {
	assert.ok(OPEN && HELD && TOKEN, 'run.py sets BASE_OPEN, BASE_HELD and ADMIN_TOKEN');
	mkdirSync(OUT, { recursive: true });
	// launch() gives every run a fresh, temporary user-data-dir.
	browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS,
	});
});
after(async () => {
	await browser?.close();
	blogServer?.close();
});

async function open(url, opts = {}) {
	const ctx = opts.ctx || await browser.newContext({ locale: 'nl-NL', viewport: { width: 1000, height: 900 }, ...opts.context });
	const page = await ctx.newPage();
	page.on('console', (m) => {
		if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
	page.on('dialog', (d) => d.accept());
	// What the page asked of the daemons, for a failure's message (seen).
	page.netlog = [];
	page.on('requestfailed', (r) => page.netlog.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
	page.on('response', (r) => page.netlog.push(`${r.request().method()} ${r.url()} ${r.status()}${r.fromServiceWorker() ? ' (worker)' : ''}`));
	if (url) await page.goto(url);
	return { ctx, page };
}
const widget = (page) => page.locator('#commentd');
const comment = (page, text) => widget(page).locator('article.cd-c', { hasText: text });
async function count(page, re) {
	await page.locator('#cd-count', { hasText: re }).waitFor();
}
async function post(page, { name, email, text, url }) {
	const w = widget(page);
	await w.getByLabel(/^(Naam|Name)$/).fill(name);
	await w.getByLabel(/^(E-mail|E-Mail)$/).fill(email);
	if (url !== undefined) await w.getByLabel(/^Website/).fill(url);
	await w.getByRole('textbox', { name: /^(Reactie|Comment|Kommentar)$/ }).fill(text);
	await w.getByRole('button', { name: /^(Plaats reactie|Post comment|Kommentar senden)$/ }).click();
	await comment(page, text.replace(/[*`]/g, '').slice(0, 40)).waitFor();
}
async function api(base, pathname, init) {
	const r = await fetch(base + pathname, init);
	return r.json();
}
// Waits for a locator; on a timeout the error also says what the widget
// showed and what the page's requests got, so a rare failure explains itself.
async function seen(page, locator) {
	try {
		await locator.waitFor();
	} catch (e) {
		const text = await widget(page).innerText().catch((x) => `(no widget text: ${x.message})`);
		const stored = await page.evaluate(() => JSON.stringify(localStorage)).catch(() => '?');
		e.message += `\nrequests: ${page.netlog.slice(-12).join(' | ')}\nlocalStorage: ${stored}` +
			`\nwidget text: ${text.slice(0, 600)}`;
		throw e;
	}
}
function noProblems() {
	assert.deepEqual(problems.splice(0), [], 'no CSP violations or script errors');
}

test('the Dutch widget on the demo: count, labels, e-mail note, hidden honeypot, focus order', async () => {
	const requests = [];
	const { ctx, page } = await open(null);
	page.on('request', (r) => { if (r.url().endsWith('/api/v1/counts')) requests.push(r.url()); });
	await page.goto(OPEN + '/demo/');
	await count(page, /^Nog geen reacties$/);
	const w = widget(page);
	await w.getByLabel('Naam').waitFor();
	assert.equal(await w.getByText('Wordt niet gepubliceerd.').count(), 1, 'the e-mail note');
	assert.equal(await w.getByLabel('E-mail').getAttribute('aria-describedby'), 'cd-email-note');
	assert.equal(await page.locator('#cd-website2').isVisible(), false, 'the honeypot is not visible');
	assert.equal(await page.getByRole('textbox', { name: 'Laat dit veld leeg' }).count(), 0,
		'the honeypot is not in the accessibility tree');
	assert.ok(await page.locator('input[name=stamp]').inputValue(), 'the form carries the stamp from GET');
	// The count helper: three elements, one request.
	await page.locator('aside [data-commentd-count]', { hasText: 'Nog geen reacties' }).nth(2).waitFor();
	assert.equal(requests.length, 1, 'one POST /api/v1/counts for all count elements');
	// Focus order through the form: the text first, then name, e-mail,
	// website, "remember me", the button and the privacy link.
	await w.getByRole('textbox', { name: 'Reactie' }).focus();
	const order = [];
	for (let i = 0; i < 6; i++) {
		await page.keyboard.press('Tab');
		order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.textContent));
	}
	assert.deepEqual(order, ['cd-author', 'cd-email', 'cd-url', 'cd-remember', 'Plaats reactie',
		'Bekijk hoe je reactie-gegevens worden verwerkt.']);
	assert.equal(await w.getByLabel('Onthoud mij op dit apparaat').isChecked(), false, 'remember me is opt-in');
	// The processing notice under the form, as on the seed article, and its page.
	await w.getByText('Deze site filtert spam met commentd, op de eigen server.').waitFor();
	const privacy = w.getByRole('link', { name: 'Bekijk hoe je reactie-gegevens worden verwerkt.' });
	assert.equal(await privacy.getAttribute('href'), OPEN + '/privacy?lang=nl');
	// The feed and the sort control.
	assert.equal(await w.getByRole('link', { name: 'Reacties als feed' }).getAttribute('href'),
		OPEN + '/api/v1/feed?thread=' + encodeURIComponent(T) + '&lang=nl');
	assert.deepEqual(await w.getByLabel('Sorteer').locator('option:not([hidden])').allTextContents(),
		['Oudste eerst', 'Nieuwste eerst', 'Populairste eerst']);
	await Promise.all([page.waitForURL(/\/privacy\?lang=nl$/), privacy.click()]);
	await page.getByRole('heading', { name: 'Hoe je reactie-gegevens worden verwerkt' }).waitFor();
	assert.ok(await page.getByRole('cell', { name: '30 dagen' }).count() >= 1, 'the retention as configured');
	noProblems();
	await ctx.close();
});

let author; // the author's browser (keeps localStorage between tests)
let parentId;

test('post a comment and a reply (by keyboard) and see them nested', async () => {
	author = await browser.newContext({ locale: 'nl-NL', viewport: { width: 1000, height: 900 } });
	const { page } = await open(OPEN + '/demo/', { ctx: author });
	await count(page, /^Nog geen reacties$/);
	await post(page, {
		name: 'Danny Verhoeven', email: EMAILS[0], url: 'https://danny.example.nl',
		text: 'Leuk artikel Sjef! Social media is *hard werken* en vergt veel uithoudingsvermogen.',
	});
	await count(page, /^1 reactie$/);
	await page.locator('.cd-status', { hasText: 'Je reactie is geplaatst.' }).waitFor();
	const first = comment(page, 'Leuk artikel Sjef');
	assert.equal(await first.locator('em').textContent(), 'hard werken', 'Markdown is rendered');
	parentId = (await first.getAttribute('id')).replace('comment-', '');

	// Reply with the keyboard: Enter on "Reageer", type, Escape cancels, Enter again.
	const replyBtn = first.getByRole('button', { name: 'Reageer op Danny Verhoeven' });
	await replyBtn.focus();
	await page.keyboard.press('Enter');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'cd-text', 'focus moves to the text');
	await widget(page).getByText('Reactie op Danny Verhoeven').waitFor();
	await page.keyboard.press('Escape');
	assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Reageer op Danny Verhoeven',
		'Escape returns focus to the reply button');
	await page.keyboard.press('Enter');
	await post(page, { name: 'Sjef Kerkhofs', email: EMAILS[1], url: '', text: 'Dank je Danny! Volharding is het credo.' });
	await count(page, /^2 reacties$/);
	const nested = page.locator(`li:has(> #comment-${parentId}) > ol.cd-replies > li > article`);
	assert.match(await nested.textContent(), /Volharding is het credo/, 'the reply is nested under its parent');

	// A stranger sees the same tree from the server, without edit buttons.
	const other = await open(OPEN + '/demo/');
	await count(other.page, /^2 reacties$/);
	const nested2 = other.page.locator(`li:has(> #comment-${parentId}) > ol.cd-replies > li > article`);
	assert.match(await nested2.textContent(), /Volharding is het credo/);
	assert.equal(await widget(other.page).getByRole('button', { name: 'Bewerk' }).count(), 0);
	assert.equal(await other.page.locator('.cd-a a[href="https://danny.example.nl"]').count(), 1, 'the website links the name');
	const html = await other.page.content();
	for (const e of EMAILS) assert.ok(!html.includes(e), 'no e-mail address on the page');
	await other.ctx.close();

	// localStorage: without "remember me" no name, e-mail or website; the
	// own comments' edit tokens with their text while they can be edited.
	const stored = await page.evaluate(() => ({ keys: Object.keys(localStorage), v: localStorage.getItem('commentd') }));
	assert.deepEqual(stored.keys, ['commentd']);
	const s = JSON.parse(stored.v);
	assert.deepEqual(Object.keys(s).sort(), ['liked', 'mine']);
	for (const m of Object.values(s.mine)) assert.deepEqual(Object.keys(m).sort(), ['a', 'h', 'p', 'pa', 't', 'th', 'u', 'x']);
	for (const e of EMAILS) assert.ok(!stored.v.includes(e), 'no e-mail address in localStorage');
	assert.ok(!stored.v.includes('danny.example.nl'), 'no website in localStorage');
	noProblems();
	await page.close();
});

test('the author edits and deletes their own comment within the window', async () => {
	const { page } = await open(OPEN + '/demo/', { ctx: author });
	await count(page, /^2 reacties$/);
	await post(page, { name: 'Sjef Kerkhofs', email: EMAILS[1], url: '', text: 'Oeps, een tikfuot.' });
	await count(page, /^3 reacties$/);
	const mine = comment(page, 'Oeps');
	await mine.getByRole('button', { name: 'Bewerk' }).click();
	const area = mine.getByRole('textbox', { name: 'Reactie' });
	assert.equal(await area.inputValue(), 'Oeps, een tikfuot.', 'the editor starts with the text');
	await area.fill('Oeps, een **tikfout**.');
	await mine.getByRole('button', { name: 'Opslaan' }).click();
	await comment(page, 'Oeps, een tikfout.').waitFor();
	// An edit passes the filter again; while it has learned too little
	// (cold start) the daemon holds edited text for a moderator.
	const status = page.locator('.cd-status', { hasText: /Je wijziging is opgeslagen.|Je reactie wacht op goedkeuring./ });
	await status.waitFor();
	const held = /wacht/.test(await status.textContent());
	if (held) {
		await mine.getByText('Wacht op goedkeuring').waitFor();
		await count(page, /^2 reacties$/);
	}
	await mine.getByRole('button', { name: 'Verwijder' }).click();
	await page.locator('.cd-status', { hasText: 'Je reactie is verwijderd.' }).waitFor();
	await count(page, /^2 reacties$/);
	assert.equal(await comment(page, 'Oeps').count(), 0);
	const j = await api(OPEN, '/api/v1/comments?thread=' + encodeURIComponent(T));
	assert.equal(j.count, 2, 'the server agrees');
	noProblems();
	await page.close();
});

// A blog on another origin (localhost vs 127.0.0.1) embedding the widget
// under the CSP that docs/widget.md recommends.
function blogPage(lang, title, thread) {
	return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${title}</h1><p>Text.</p>
<p><a href="#c" data-commentd-count="${thread}">…</a></p>
<script src="${OPEN}/embed.js" async data-thread="${thread}"></script>
<div id="commentd"></div></main></body></html>`;
}
const LONG = '/2011/02/a-long-discussion';
// The blog is a small server on its own port: a page served by a loopback
// address may call the daemon on another loopback port (Chromium's local
// network access rules), and its origin is in the daemon's site_origins.
// /<lang>/?t=<thread> is a page of that thread (default: the demo's).
let blogServer;
async function blog(lang, title, { thread = T, hash = '', ctx = null, context = {} } = {}) {
	const origin = process.env.BLOG_ORIGIN;
	if (!blogServer) {
		blogServer = http.createServer((req, res) => {
			const u = new URL(req.url, origin);
			const l = u.pathname.split('/')[1];
			res.writeHead(200, {
				'Content-Type': 'text/html; charset=utf-8',
				'Content-Security-Policy': `default-src 'self'; script-src 'self' ${OPEN}; style-src 'self' ${OPEN}; connect-src 'self' ${OPEN}; img-src 'self'`,
			});
			const t = u.searchParams.get('t') || T;
			res.end(blogPage(l, t === LONG ? 'A long discussion' : l === 'de' ? 'Social-Media-Realitäten' : 'Social media realities', t));
		});
		await new Promise((ok) => blogServer.listen(Number(new URL(origin).port), '127.0.0.1', ok));
	}
	const o = await open(null, { ctx, context: { locale: lang, ...context } });
	await o.page.goto(`${origin}/${lang}/?t=${encodeURIComponent(thread)}${hash}`);
	assert.equal(await o.page.title(), title);
	return o;
}

test('English and German strings, on a blog on another origin (CORS, CSP)', async () => {
	const en = await blog('en', 'Social media realities');
	await count(en.page, /^2 comments$/);
	const w = widget(en.page);
	await w.getByLabel('Name').waitFor();
	await w.getByText('Will not be published.').waitFor();
	assert.equal(await w.getByRole('button', { name: 'Reply to Danny Verhoeven' }).count(), 1);
	await post(en.page, { name: 'A Reader', email: EMAILS[2], text: 'Great points, perseverance is the key.' });
	await count(en.page, /^3 comments$/);
	await en.page.locator('.cd-status', { hasText: 'Your comment has been posted.' }).waitFor();
	await en.page.locator('main > p > a[data-commentd-count]', { hasText: /^3 comments$/ }).waitFor();
	await en.ctx.close();

	const de = await blog('de', 'Social-Media-Realitäten');
	await count(de.page, /^3 Kommentare$/);
	await widget(de.page).getByRole('button', { name: 'Kommentar senden' }).waitFor();
	await widget(de.page).getByText('Wird nicht veröffentlicht.').waitFor();
	await de.ctx.close();
	noProblems();
});

async function postTo(base, thread, author, email, text, extra = {}) {
	return api(base, '/api/v1/comments', {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ thread, author, email, text, ...extra }),
	});
}
const articleTexts = (page) => widget(page).locator('ol.cd-list[aria-labelledby="cd-count"] > li > article .cd-body').allInnerTexts();

test('preview: the Preview tab shows the text as it will be; lists, quotes and bare URLs render', async () => {
	const { ctx, page } = await blog('nl', 'Social media realities', { thread: '/2011/01/markdown' });
	const w = widget(page);
	await count(page, /^Nog geen reacties$/);
	const text = 'Zie https://example.org/wiki/Foo_(bar).\n\n- een\n- **twee**\n\n> citaat\n\n3. drie\n4. vier';
	const area = w.getByRole('textbox', { name: 'Reactie' });
	await area.fill(text);
	const tab = w.getByRole('tab', { name: 'Voorbeeld' });
	await tab.click();
	assert.equal(await tab.getAttribute('aria-selected'), 'true');
	const pv = w.getByRole('tabpanel', { name: 'Voorbeeld' });
	await pv.locator('li', { hasText: 'twee' }).waitFor();
	assert.equal(await pv.locator('ul > li').count(), 2, 'a bullet list');
	assert.equal(await pv.locator('ol[start="3"] > li').count(), 2, 'a numbered list');
	assert.equal(await pv.locator('blockquote').innerText(), 'citaat', 'a quote');
	const link = pv.locator('a[href="https://example.org/wiki/Foo_(bar)"]');
	assert.equal(await link.getAttribute('rel'), 'nofollow ugc', 'a bare URL is a link');
	assert.equal(await area.isVisible(), false, 'the text field is behind its tab');
	// The arrow keys move between the tabs.
	await tab.focus();
	await page.keyboard.press('ArrowLeft');
	assert.equal(await w.getByRole('tab', { name: 'Schrijven' }).getAttribute('aria-selected'), 'true');
	assert.equal(await page.evaluate(() => document.activeElement.id), 'cd-tab-w');
	assert.ok(await area.isVisible(), 'the text field is back');
	// Posted, the comment looks as its preview did.
	await post(page, { name: 'Markdown Fan', email: 'md@example.nl', text });
	const c = comment(page, 'citaat');
	assert.equal(await c.locator('.cd-body ul > li').count(), 2);
	assert.equal(await c.locator('.cd-body strong').innerText(), 'twee');
	assert.equal(await c.locator('.cd-body blockquote').count(), 1);
	assert.equal(await c.locator('.cd-body a[rel="nofollow ugc"]').getAttribute('href'), 'https://example.org/wiki/Foo_(bar)');
	await ctx.close();
	noProblems();
});

test('a long thread comes a page at a time: More comments adds the next', async () => {
	const post1 = (text, parent) => fetch(OPEN + '/api/v1/comments', {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ thread: LONG, author: 'Lezer', email: 'lezer@example.nl', text, ...(parent ? { parent } : {}) }),
	}).then((r) => r.json());
	const ids = [];
	for (let i = 1; i <= 60; i++) ids.push((await post1(`Reactie nummer ${i}.`)).id);
	await post1('Een laat antwoord op de laatste.', ids[59]);
	const first = await api(OPEN, '/api/v1/comments?thread=' + encodeURIComponent(LONG));
	assert.equal(first.comments.length, 50, 'the first page holds page_default (50) top-level comments');
	assert.ok(first.cursor, 'with a cursor');

	const long = await blog('en', 'A long discussion', { thread: LONG });
	await count(long.page, /^61 comments$/);
	const w = widget(long.page);
	await comment(long.page, 'Reactie nummer 50.').waitFor();
	assert.equal(await comment(long.page, 'Reactie nummer 51.').count(), 0, 'page two is not there yet');
	const more = w.getByRole('button', { name: 'More comments' });
	await more.click();
	await comment(long.page, 'Reactie nummer 60.').waitFor();
	const nested = long.page.locator(`li:has(> #comment-${ids[59]}) > ol.cd-replies > li > article`);
	assert.match(await nested.textContent(), /Een laat antwoord/, 'the second page nests its replies');
	assert.equal(await w.locator('article.cd-c').count(), 61, 'all 61 comments shown, each once');
	assert.equal(await more.count(), 0, 'and no button once the thread is complete');
	await long.ctx.close();
	noProblems();
});

test('likes: a toggle with its count, remembered in this browser, as the server counts', async () => {
	const thread = '/2011/01/leuk';
	await postTo(OPEN, thread, 'Danny', 'danny@example.nl', 'Vind je dit leuk?');
	const { ctx, page } = await blog('nl', 'Social media realities', { thread });
	const c = comment(page, 'Vind je dit leuk?');
	const like = c.getByRole('button', { name: /^Leuk/ });
	await like.waitFor();
	assert.equal(await like.getAttribute('aria-pressed'), 'false');
	await like.click();
	await c.getByRole('button', { name: 'Leuk 1', pressed: true }).waitFor();
	assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Leuk 1', 'the focus stays on the button');
	const likesOf = async () => (await api(OPEN, '/api/v1/comments?thread=' + encodeURIComponent(thread))).comments[0].likes;
	assert.equal(await likesOf(), 1, 'the server counts it');
	await page.reload();
	await seen(page, c.getByRole('button', { name: 'Leuk 1', pressed: true }));
	await c.getByRole('button', { name: 'Leuk 1' }).click();
	await c.getByRole('button', { name: 'Leuk', exact: true, pressed: false }).waitFor();
	assert.equal(await likesOf(), 0, 'and takes it back');
	await ctx.close();
	noProblems();
});

test('remember me: name, e-mail and website on this device, only when asked', async () => {
	const thread = '/2011/01/onthouden';
	const ctx = await browser.newContext({ locale: 'nl-NL', viewport: { width: 1000, height: 900 } });
	const { page } = await blog('nl', 'Social media realities', { thread, ctx });
	const w = widget(page);
	await count(page, /^Nog geen reacties$/);
	await w.getByLabel('Onthoud mij op dit apparaat').check();
	await post(page, { name: 'Lotte', email: 'lotte@example.nl', url: 'https://lotte.example.nl', text: 'Ik kom terug.' });
	let s = JSON.parse(await page.evaluate(() => localStorage.getItem('commentd')));
	assert.deepEqual(s.me, { n: 'Lotte', e: 'lotte@example.nl', w: 'https://lotte.example.nl' });
	await page.reload();
	await count(page, /^1 reactie$/);
	assert.equal(await w.getByLabel('Naam').inputValue(), 'Lotte');
	assert.equal(await w.getByLabel('E-mail').inputValue(), 'lotte@example.nl');
	assert.equal(await w.getByLabel(/^Website/).inputValue(), 'https://lotte.example.nl');
	assert.equal(await w.getByLabel('Onthoud mij op dit apparaat').isChecked(), true);
	// Unticked: forgotten at the next post.
	await w.getByLabel('Onthoud mij op dit apparaat').uncheck();
	await post(page, { name: 'Lotte', email: 'lotte@example.nl', text: 'Vergeet me maar.' });
	const raw = await page.evaluate(() => localStorage.getItem('commentd'));
	s = JSON.parse(raw);
	assert.equal(s.me, undefined, 'forgotten');
	assert.ok(!raw.includes('lotte@example.nl'), 'no e-mail address in localStorage any more');
	await page.reload();
	await count(page, /^2 reacties$/);
	assert.equal(await w.getByLabel('Naam').inputValue(), '');
	const html = await page.content();
	assert.ok(!html.includes('lotte@example.nl'), 'never an e-mail address on the page');
	await ctx.close();
	noProblems();
});

test('relative times with the exact time on hover', async () => {
	const thread = '/2011/01/tijd';
	const c = await postTo(OPEN, thread, 'Sjef Kerkhofs', 'sjef@example.nl', 'Van de auteur zelf.');
	const { ctx, page } = await open(null, { context: { locale: 'nl-NL' } });
	await page.clock.setFixedTime(Date.parse(c.created) + 3 * 60e3 + 5e3);
	// (The site author's badge, from a real author reply, is in the
	// moderation test below.)
	await page.goto(`${process.env.BLOG_ORIGIN}/nl/?t=${encodeURIComponent(thread)}`);
	const art = comment(page, 'Van de auteur zelf.');
	await art.waitFor();
	assert.equal(await art.locator('.cd-author').count(), 0, 'a comment by the API is no author\'s');
	const time = art.locator('time');
	assert.equal(await time.innerText(), '3 minuten geleden');
	assert.equal(await time.getAttribute('datetime'), c.created);
	assert.equal(await time.getAttribute('title'), await page.evaluate((iso) =>
		new Intl.DateTimeFormat('nl', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)), c.created),
	'the exact time on hover');
	await ctx.close();
	noProblems();
});

test('sorting: oldest, newest or most liked first; the choice is remembered', async () => {
	const thread = '/2011/01/sorteren';
	const ids = [];
	for (const text of ['Eerste reactie.', 'Tweede reactie.', 'Derde reactie.'])
		ids.push((await postTo(OPEN, thread, 'Lezer', 'lezer@example.nl', text)).id);
	await api(OPEN, `/api/v1/comments/${ids[1]}/like`, { method: 'POST' });
	const ctx = await browser.newContext({ locale: 'nl-NL', viewport: { width: 1000, height: 900 } });
	const { page } = await blog('nl', 'Social media realities', { thread, ctx });
	await count(page, /^3 reacties$/);
	await comment(page, 'Derde').waitFor();
	assert.deepEqual(await articleTexts(page), ['Eerste reactie.', 'Tweede reactie.', 'Derde reactie.']);
	const sort = widget(page).getByLabel('Sorteer');
	await sort.selectOption({ label: 'Nieuwste eerst' });
	await page.waitForFunction(() => document.querySelector('#commentd .cd-list .cd-body').textContent.startsWith('Derde'));
	assert.deepEqual(await articleTexts(page), ['Derde reactie.', 'Tweede reactie.', 'Eerste reactie.']);
	await page.reload();
	await comment(page, 'Derde').waitFor();
	assert.equal(await sort.inputValue(), 'newest', 'remembered');
	assert.deepEqual(await articleTexts(page), ['Derde reactie.', 'Tweede reactie.', 'Eerste reactie.']);
	await sort.selectOption({ label: 'Populairste eerst' });
	await page.waitForFunction(() => document.querySelector('#commentd .cd-list .cd-body').textContent.startsWith('Tweede'));
	assert.deepEqual(await articleTexts(page), ['Tweede reactie.', 'Eerste reactie.', 'Derde reactie.']);
	await ctx.close();
	noProblems();
});

test('a 200-comment thread: a page at a time under the full count, "load more", a link to comment 150', async () => {
	const thread = '/2011/01/lange-draad';
	const ids = [];
	for (let i = 1; i <= 200; i++)
		ids.push((await postTo(OPEN, thread, `Lezer ${i}`, 'lezer@example.nl', `Reactie nummer ${i}.`)).id);
	const { ctx, page } = await blog('nl', 'Social media realities', { thread });
	await count(page, /^200 reacties$/);
	const articles = widget(page).locator('article.cd-c');
	await comment(page, 'Reactie nummer 1.').waitFor();
	const first = await articles.count();
	assert.ok(first >= 10 && first < 200, `the first page holds part of the thread (${first})`);
	const more = widget(page).getByRole('button', { name: 'Meer reacties' });
	await more.click();
	await page.waitForFunction((n) => document.querySelectorAll('#commentd article.cd-c').length > n, first);
	assert.equal(await articles.count(), Math.min(2 * first, 200), 'load more brings the next page');
	assert.equal(await page.locator('#cd-count').innerText(), '200 reacties', 'the count stays the full count');
	await ctx.close();
	// A link to the 150th comment loads the pages up to it and shows it.
	const deep = await blog('nl', 'Social media realities', { thread, hash: `#comment-${ids[149]}` });
	await deep.page.waitForFunction((i) => document.activeElement.id === `comment-${i}`, ids[149]);
	const target = deep.page.locator(`#comment-${ids[149]}`);
	assert.match(await target.innerText(), /Reactie nummer 150\./);
	assert.ok(await target.isVisible(), 'in view');
	const box = await target.boundingBox();
	assert.ok(box && box.y >= -1 && box.y < 900, `scrolled to it (${box && box.y})`);
	await deep.ctx.close();
	noProblems();
});

test('dark mode: the widget takes the page\'s font and colours and paints no background', async () => {
	for (const scheme of ['light', 'dark']) {
		const { ctx, page } = await open(OPEN + '/demo/', { context: { colorScheme: scheme } });
		await count(page, /reacties$/);
		await page.locator('#commentd article.cd-c').first().waitFor();
		const c = await page.evaluate(() => {
			const cs = (sel) => getComputedStyle(document.querySelector(sel));
			const lum = (rgb) => {
				const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
				return (0.299 * r + 0.587 * g + 0.114 * b) / 255;
			};
			return {
				page: cs('#commentd').color, widget: cs('#commentd .cd-body').color,
				font: cs('#commentd').fontFamily === cs('#commentd .cd-form button').fontFamily,
				bg: cs('#commentd').backgroundColor, field: cs('#cd-text').backgroundColor,
				body: lum(cs('body').backgroundColor), text: lum(cs('#commentd .cd-body').color),
				button: cs('#commentd .cd-btn').borderTopColor === cs('#commentd').color,
			};
		});
		assert.equal(c.widget, c.page, `${scheme}: the text has the page's colour`);
		assert.ok(c.font, `${scheme}: the page's font`);
		assert.equal(c.bg, 'rgba(0, 0, 0, 0)', `${scheme}: no background of its own`);
		assert.equal(c.field, 'rgba(0, 0, 0, 0)', `${scheme}: the fields neither`);
		assert.ok(c.button, `${scheme}: the button is drawn in the text colour`);
		if (scheme === 'dark') assert.ok(c.body < 0.2 && c.text > 0.7, 'light text on the dark page');
		else assert.ok(c.body > 0.8 && c.text < 0.3, 'dark text on the light page');
		await ctx.close();
	}
	noProblems();
});

test('a 390 px phone: nothing wider than the screen, the form within reach', async () => {
	const { ctx, page } = await open(OPEN + '/demo/', { context: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } });
	await count(page, /reacties$/);
	await page.locator('#commentd article.cd-c').first().waitFor();
	assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 390, 'no horizontal scrolling');
	const wide = await page.evaluate(() => [...document.querySelectorAll('#commentd *')]
		.filter((e) => e.getBoundingClientRect().right > 390.5).map((e) => e.className || e.tagName));
	assert.deepEqual(wide, [], 'nothing of the widget sticks out');
	const area = await widget(page).getByRole('textbox', { name: 'Reactie' }).boundingBox();
	assert.ok(area.width >= 300, `the text field is wide enough (${area.width})`);
	const btn = await widget(page).getByRole('button', { name: 'Plaats reactie' }).boundingBox();
	assert.ok(btn.height >= 24 && btn.width >= 24, 'the button is big enough to tap');
	await ctx.close();
	noProblems();
});

// Without JavaScript the placeholder shows the thread as a page of its own
// in a frame (<noscript>), with the reply form.
async function noJsFrame(base) {
	const { ctx, page } = await open(base + '/demo/', { context: { javaScriptEnabled: false } });
	const frameEl = page.locator('iframe.cd-frame');
	await frameEl.waitFor();
	const frame = await (await frameEl.elementHandle()).contentFrame();
	await frame.locator('#cd-count').waitFor();
	return { ctx, page, frame };
}
async function noJsPost(frame, { name, email, text }) {
	await frame.getByLabel('Reactie', { exact: true }).fill(text);
	await frame.getByLabel('Naam').fill(name);
	await frame.getByLabel('E-mail').fill(email);
	await frame.getByRole('button', { name: 'Plaats reactie' }).click();
}

test('without JavaScript: read the thread in the frame, reply, land on the new comment', async () => {
	const { ctx, page, frame } = await noJsFrame(OPEN);
	assert.match(await frame.locator('#cd-count').innerText(), /^\d+ reacties$/);
	await frame.locator('article.cd-c', { hasText: 'Leuk artikel Sjef' }).waitFor();
	assert.equal(await frame.locator('#cd-hp').isVisible(), false, 'the honeypot is hidden without JS too');
	assert.equal(await frame.locator('script').count(), 0, 'the page has no script');
	// Reply to Danny: the reply link sets the form up.
	await frame.getByRole('link', { name: 'Reageer op Danny Verhoeven' }).click();
	await frame.getByRole('heading', { name: 'Reactie op Danny Verhoeven' }).waitFor();
	await noJsPost(frame, { name: 'Edwin van der Poel', email: 'edwin@example.nl',
		text: 'Kortom; doe het goed of doe het niet. (Zonder JavaScript geplaatst.)' });
	await frame.waitForURL(/&comment=(\d+)#comment-\1$/);
	const id = Number(frame.url().split('#comment-')[1]);
	const mine = frame.locator(`#comment-${id}`);
	await mine.waitFor();
	assert.match(await mine.innerText(), /Zonder JavaScript geplaatst/);
	assert.ok(await mine.isVisible(), 'the frame shows the new comment');
	const nested = frame.locator(`li:has(> #comment-${parentId}) > ol.cd-replies > li > #comment-${id}`);
	assert.equal(await nested.count(), 1, 'as a reply to Danny');
	const j = await api(OPEN, '/api/v1/comments?thread=' + encodeURIComponent(T));
	assert.ok(JSON.stringify(j).includes('Edwin van der Poel'), 'the comment is in the thread');
	await ctx.close();
	// With JavaScript, a link to it scrolls to and focuses it.
	const js = await open(OPEN + `/demo/#comment-${id}`);
	await comment(js.page, 'Zonder JavaScript geplaatst').waitFor();
	await js.page.waitForFunction((i) => document.activeElement.id === `comment-${i}`, id);
	await js.ctx.close();
	noProblems();
});

let heldAuthor;
test('a held comment shows as awaiting moderation to its author only', async () => {
	heldAuthor = await browser.newContext({ locale: 'nl-NL', viewport: { width: 1000, height: 900 } });
	const { page } = await open(HELD + '/demo/', { ctx: heldAuthor });
	await count(page, /^Nog geen reacties$/);
	await post(page, { name: 'Martin Kloos', email: 'martin@example.nl', text: 'Goede punten @sjef. Je doet het bijna klinken als een echte relatie.' });
	const mine = comment(page, 'echte relatie');
	await mine.getByText('Wacht op goedkeuring').waitFor();
	await page.locator('.cd-status', { hasText: 'Je reactie wacht op goedkeuring.' }).waitFor();
	await count(page, /^Nog geen reacties$/);
	assert.equal(await mine.getByRole('button', { name: /^Reageer/ }).count(), 0, 'no replies to a held comment');
	// After a reload the author still sees it, with its text and the edit
	// link, while the edit token is valid (all from localStorage).
	await page.reload();
	await count(page, /^Nog geen reacties$/);
	const again = widget(page).locator('article.cd-held', { hasText: 'Wacht op goedkeuring' });
	await again.waitFor();
	assert.match(await again.locator('.cd-body').innerText(), /echte relatie/, 'its text after a reload');
	assert.equal(await again.getByRole('button', { name: 'Bewerk' }).count(), 1, 'and its edit link');
	// Once the edit window has closed, only the placeholder is left.
	await page.evaluate(() => {
		const s = JSON.parse(localStorage.getItem('commentd'));
		for (const m of Object.values(s.mine)) m.u = Date.now() - 1000;
		localStorage.setItem('commentd', JSON.stringify(s));
	});
	await page.reload();
	const expired = widget(page).locator('article.cd-held');
	await expired.waitFor();
	assert.equal(await expired.locator('.cd-body').innerText(), 'Je reactie wacht op goedkeuring.');
	assert.equal(await expired.getByRole('button').count(), 0, 'no edit link without a valid token');
	const kept = await page.evaluate(() => localStorage.getItem('commentd'));
	assert.ok(!kept.includes('echte relatie') && !/"t":/.test(kept), 'the text and token are gone from localStorage');
	// Nobody else does.
	const other = await open(HELD + '/demo/');
	await count(other.page, /^Nog geen reacties$/);
	assert.equal(await widget(other.page).locator('article').count(), 0);
	await other.ctx.close();
	noProblems();
	await page.close();
});

let adminPage; // signed in once; the token lives in this tab's sessionStorage
async function signIn() {
	const { page } = await open(HELD + '/admin/', { context: { locale: 'en-GB', viewport: { width: 1280, height: 860 } } });
	await page.getByLabel('Admin token').fill('not-a-token');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByText('That token is not valid.').waitFor();
	await page.getByLabel('Admin token').fill(TOKEN);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('#status', { hasText: /pending comment/ }).waitFor();
	adminPage = page;
	return page;
}

test('the moderation page: sign in, approve, and the comment appears on the article', async () => {
	const page = await signIn();
	const item = page.locator('#list li', { hasText: 'echte relatie' });
	await item.waitFor();
	assert.match(await item.textContent(), /Martin Kloos/);
	assert.ok(!(await item.textContent()).includes('martin@example.nl'), 'no e-mail address on the admin page');
	await item.getByRole('button', { name: 'Approve', exact: true }).click();
	await page.locator('#status', { hasText: /approved/ }).waitFor();
	await item.waitFor({ state: 'detached' });
	await page.locator('[data-count="published"]', { hasText: '(1)' }).waitFor();

	const p = await open(HELD + '/demo/', { ctx: heldAuthor });
	await count(p.page, /^1 reactie$/);
	const c = comment(p.page, 'echte relatie');
	await c.waitFor();
	assert.equal(await c.getByText('Wacht op goedkeuring').count(), 0, 'no longer marked as held');
	const other = await open(HELD + '/demo/');
	await comment(other.page, 'echte relatie').waitFor();
	await other.ctx.close();
	await p.page.close();
	noProblems();
});

const SPAM = 'CHEAP followers!!! buy 10000 instagram followers now http://followers.example.com';
async function postApi(base, author, email, text) {
	return api(base, '/api/v1/comments', {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ thread: T, author, email, text }),
	});
}

test('mark spam with a key, search, and bulk-approve the rest', async () => {
	await postApi(HELD, 'Peter van Veen', 'peter@example.nl', 'Inderdaad, volharding is essentieel voor succes.');
	await postApi(HELD, 'Jerryenzo', 'jerry@example.nl', 'Verfrissend Sjef! Social media zijn in beginsel gewoon media.');
	const s = await postApi(HELD, 'Spammer', 'spam@example.com', SPAM);
	const page = adminPage;
	await page.keyboard.press('1'); // reload the pending queue
	await page.locator('#list li').nth(2).waitFor();
	// The newest is first: j selects it, s marks it as spam.
	await page.locator('#list li', { hasText: 'CHEAP followers' }).waitFor();
	await page.locator('body').press('j');
	assert.match(await page.evaluate(() => document.activeElement.textContent), /CHEAP followers/);
	await page.keyboard.press('s');
	await page.locator('#status', { hasText: `Comment #${s.id} marked as spam.` }).waitFor();
	assert.equal(await page.locator('#list li', { hasText: 'CHEAP followers' }).count(), 0);
	await page.keyboard.press('2'); // the spam queue
	await page.locator('#list li', { hasText: 'CHEAP followers' }).waitFor();
	assert.equal(await page.getByRole('button', { name: 'Spam', pressed: true }).count(), 1);
	const j = await api(HELD, `/api/v1/admin/comments?status=spam`, { headers: { Authorization: 'Bearer ' + TOKEN } });
	assert.ok(j.comments.some((c) => c.id === s.id), 'the server has it as spam');

	// Search in the pending queue, then select all and approve.
	await page.keyboard.press('1');
	await page.locator('#list li').nth(1).waitFor();
	await page.getByLabel('Search text').fill('volharding');
	await page.getByRole('button', { name: 'Search' }).click();
	await page.locator('#status', { hasText: '1 pending comment.' }).waitFor();
	await page.getByLabel('Search text').fill('');
	await page.getByRole('button', { name: 'Search' }).click();
	await page.locator('#status', { hasText: '2 pending comments.' }).waitFor();
	await page.getByLabel('Select all').check();
	await page.getByRole('button', { name: 'Approve selected' }).click();
	await page.locator('#status', { hasText: '2 comments approved.' }).waitFor();
	assert.equal(await page.locator('#list li').count(), 0);
	const t = await api(HELD, '/api/v1/comments?thread=' + encodeURIComponent(T));
	assert.equal(t.count, 3);
	noProblems();
});

const ADMIN_AUTH = { headers: { Authorization: 'Bearer ' + TOKEN } };

test('the moderation page explains: reasons in words, the article, the parent', async () => {
	// A comment through the widget on the article: held (moderation = all)
	// and sent within min_submit_seconds of the page's render.
	const reader = await open(HELD + '/demo/');
	await count(reader.page, /reacties?$/);
	await post(reader.page, { name: 'Jasper', email: 'jasper@example.nl', text: 'Snel even gereageerd op het artikel.' });
	await reader.ctx.close();
	const page = adminPage;
	await page.keyboard.press('1');
	const item = page.locator('#list li', { hasText: 'Snel even gereageerd' });
	await item.waitFor();
	const reasons = item.locator('ul.reasons li');
	assert.deepEqual(await reasons.evaluateAll((ns) => ns.map((n) => n.getAttribute('data-code'))), ['too_fast', 'moderation_all'],
		'the reasons the pipeline stored, in order');
	assert.match(await reasons.nth(0).textContent(), /^Sent \d+ s after the page loaded \(under 3600 s\): people read and type first\.$/);
	assert.equal(await reasons.nth(1).textContent(), 'Every comment waits for a moderator (moderation = all).');
	// The thread as the article's title, linking to it.
	const link = item.getByRole('link', { name: 'Social media realities – commentd demo' });
	assert.equal(await link.getAttribute('href'), HELD + '/demo/');
	// A reply shows what it answers.
	const t = await api(HELD, '/api/v1/comments?thread=' + encodeURIComponent(T));
	const martin = t.comments.find((c) => c.author === 'Martin Kloos');
	const r = await api(HELD, '/api/v1/comments', {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ thread: T, author: 'Ilse', email: 'ilse@example.nl', parent: martin.id, text: 'Precies wat ik dacht.' }),
	});
	await page.keyboard.press('1');
	const replyItem = page.locator(`#list li[data-id="${r.id}"]`);
	await replyItem.locator('blockquote.parent', { hasText: 'In reply to Martin Kloos:' }).waitFor();
	assert.match(await replyItem.locator('blockquote.parent').textContent(), /echte relatie/);
	// Both go: the spam folder and approval (the queue ends empty).
	await api(HELD, `/api/v1/admin/comments/${r.id}/approve`, { method: 'POST', ...ADMIN_AUTH });
	noProblems();
});

test('reply as the site\'s author: approve and reply in one action, the badge in the widget', async () => {
	const page = adminPage;
	await page.keyboard.press('1');
	const item = page.locator('#list li', { hasText: 'Snel even gereageerd' });
	await item.waitFor();
	const id = await item.getAttribute('data-id');
	await item.getByRole('button', { name: 'Approve and reply' }).click();
	const area = item.getByLabel('Reply as Sjef Kerkhofs (Markdown)');
	assert.equal(await page.evaluate(() => document.activeElement.id), await area.getAttribute('id'), 'the reply box has focus');
	await area.fill('Dank je, Jasper! **Volharding** blijft het credo.');
	await item.getByRole('button', { name: 'Approve and publish reply' }).click();
	await page.locator('#status', { hasText: `Comment #${id} approved and answered.` }).waitFor();
	await item.waitFor({ state: 'detached' });
	// On the article, for any reader: the reply under the comment, with the badge.
	const { ctx, page: blog } = await open(HELD + '/demo/');
	const reply = comment(blog, 'blijft het credo');
	await reply.waitFor();
	assert.equal(await reply.locator('.cd-author').textContent(), 'Auteur', 'the author badge');
	assert.equal(await reply.locator('.cd-a').textContent(), 'Sjef Kerkhofs', 'under the display name');
	assert.equal(await reply.locator('strong').textContent(), 'Volharding', 'Markdown rendered');
	const nested = blog.locator(`li:has(> #comment-${id}) > ol.cd-replies > li > article`, { hasText: 'blijft het credo' });
	assert.equal(await nested.count(), 1, 'nested under the approved comment');
	assert.equal(await comment(blog, 'Snel even gereageerd').locator('.cd-author').count(), 0, 'a reader has no badge');
	await ctx.close();
	noProblems();
});

test('the chart: bars per day, the agreement line, a text table', async () => {
	const page = adminPage;
	const svg = page.locator('#chart svg[role="img"]');
	await svg.waitFor();
	assert.equal(await svg.locator('title').textContent(), 'Comments per day, last 30 days');
	assert.match(await svg.locator('desc').textContent(), /Stacked bars per day/);
	assert.equal(await svg.getAttribute('aria-labelledby'), 'chart-title chart-desc');
	const st = await api(HELD, '/api/v1/admin/stats?days=30', ADMIN_AUTH);
	const today = st.series[st.series.length - 1];
	const parts = ['published', 'held', 'spam', 'discarded'].filter((k) => today[k] > 0).length;
	assert.ok(parts > 0, 'today has comments');
	assert.equal(await svg.locator('rect').count(), st.series.reduce((n, day) =>
		n + ['published', 'held', 'spam', 'discarded'].filter((k) => day[k] > 0).length, 0), 'one bar part per series and day');
	assert.ok(await svg.locator('path.agree').count() + await svg.locator('circle.agree-dot').count() > 0, 'the agreement is drawn');
	const box = await svg.boundingBox();
	assert.ok(box.width > 200 && box.height > 80, `the chart has a size (${box.width}x${box.height})`);
	await page.getByText('Show as a table').click();
	assert.equal(await page.locator('#chart-table tbody tr').count(), 30, 'a table row per day');
	assert.equal(await page.locator('#chart-table tbody tr').first().locator('td').first().textContent(), String(today.published));
	await page.getByLabel('Period').selectOption('7');
	await page.locator('#chart svg title', { hasText: 'last 7 days' }).waitFor({ state: 'attached' });
	assert.equal(await page.locator('#chart-table tbody tr').count(), 7);
	await page.getByLabel('Period').selectOption('30');
	await page.getByText('Show as a table').click();
	noProblems();
});

async function signInAs(ctx, url) {
	const page = await ctx.newPage();
	page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
	await page.goto(url);
	await page.locator('#token').fill(TOKEN);
	await page.locator('#signin-form button[type=submit]').click();
	await page.locator('#app:not([hidden])').waitFor();
	await page.locator('#status:not(:empty)').waitFor();
	return page;
}

test('the page in Dutch (from the browser), switched to German and remembered', async () => {
	const nlId = (await postApi(HELD, 'Annelies', 'annelies@example.nl', 'Heel herkenbaar verhaal.')).id;
	const ctx = await browser.newContext({ locale: 'nl-NL', viewport: { width: 1100, height: 900 } });
	const pre = await ctx.newPage();
	await pre.goto(HELD + '/admin/');
	assert.equal(await pre.locator('html').getAttribute('lang'), 'nl');
	await pre.getByLabel('Admin-token').waitFor();
	assert.equal(await pre.getByRole('button', { name: 'Aanmelden' }).count(), 1);
	await pre.close();
	const page = await signInAs(ctx, HELD + '/admin/');
	assert.equal(await page.locator('h1').textContent(), 'Moderatie');
	await page.locator('#status', { hasText: '1 wachtende reactie.' }).waitFor();
	const item = page.locator(`#list li[data-id="${nlId}"]`);
	assert.equal(await item.locator('ul.reasons li').textContent(), 'Elke reactie wacht op een moderator (moderation = all).');
	assert.equal(await item.getByRole('button', { name: 'Goedkeuren', exact: true }).count(), 1);
	assert.equal(await item.getByRole('button', { name: 'Goedkeuren en beantwoorden' }).count(), 1);
	assert.equal(await page.getByRole('button', { name: /^Wachtend/ }).getAttribute('aria-pressed'), 'true');
	assert.equal(await page.locator('#chart svg title').textContent(), 'Reacties per dag, laatste 30 dagen');
	assert.match(await page.locator('#me').textContent(), /je antwoorden verschijnen als Sjef Kerkhofs/);
	await page.getByLabel('Taal', { exact: true }).selectOption('de');
	await page.locator('h1', { hasText: 'Moderation' }).waitFor();
	assert.equal(await page.locator('html').getAttribute('lang'), 'de');
	await page.locator('#status', { hasText: '1 wartender Kommentar.' }).waitFor();
	assert.equal(await item.getByRole('button', { name: 'Freigeben', exact: true }).count(), 1);
	await page.reload();
	await page.locator('#status', { hasText: '1 wartender Kommentar.' }).waitFor();
	assert.equal(await page.locator('html').getAttribute('lang'), 'de', 'the choice is remembered');
	await item.getByRole('button', { name: 'Freigeben', exact: true }).click();
	await page.locator('#status', { hasText: `Kommentar #${nlId} freigegeben.` }).waitFor();
	await ctx.close();
	noProblems();
});

test('the queue at 390 px: no sideways scrolling, 44 px targets', async () => {
	const heldId = (await postApi(HELD, 'Mobiel', 'mobiel@example.nl', 'Geschreven op een telefoon, gelezen op een telefoon.')).id;
	const ctx = await browser.newContext({ locale: 'nl-NL', viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
	const page = await signInAs(ctx, HELD + '/admin/');
	const item = page.locator(`#list li[data-id="${heldId}"]`);
	await item.waitFor();
	const width = await page.evaluate(() => document.documentElement.scrollWidth);
	assert.ok(width <= 390, `the page fits 390 px (scrollWidth ${width})`);
	const small = await page.evaluate(() => {
		const out = [];
		for (const n of document.querySelectorAll('#app button, #app select, #app summary, #app .sel, #app .check, header button, header select')) {
			const r = n.getBoundingClientRect();
			if (r.width === 0 && r.height === 0) continue; /* hidden */
			if (r.width < 44 || r.height < 44) out.push(`${n.tagName} ${n.textContent.trim().slice(0, 20)} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
		}
		return out;
	});
	assert.deepEqual(small, [], 'every control is at least 44 x 44 px');
	const box = await item.getByRole('button', { name: 'Goedkeuren', exact: true }).boundingBox();
	assert.ok(box.x >= 0 && box.x + box.width <= 390, 'the buttons are on screen');
	const file = path.join(OUT, 'admin-mobile.png');
	await page.screenshot({ path: file });
	if (SHOTS) copyFileSync(file, path.join(SHOTS, 'admin-mobile.png'));
	const docs = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'docs', 'screenshots');
	const c = await comparePng(file, path.join(docs, 'admin-mobile.png'));
	assert.equal(c.a[0], c.b[0], 'admin-mobile.png has the width of docs/screenshots/admin-mobile.png');
	assert.ok(c.spread > 0.05 && c.diff < 0.05, `admin-mobile.png looks like docs/screenshots/admin-mobile.png (difference ${c.diff}); UPDATE_SCREENSHOTS=1 renews it`);
	await item.getByRole('button', { name: 'Goedkeuren', exact: true }).click();
	await page.locator('#status', { hasText: `Reactie #${heldId} goedgekeurd.` }).waitFor();
	await ctx.close();
	noProblems();
});

async function axe(url, setup, scheme, viewport = { width: 1100, height: 900 }) {
	// axe is injected as a script: this context lets it past the page's CSP.
	const ctx = await browser.newContext({ bypassCSP: true, colorScheme: scheme, locale: 'nl-NL', viewport });
	const page = await ctx.newPage();
	await page.goto(url);
	await setup(page);
	await page.addScriptTag({ content: AXE });
	const res = await page.evaluate(() => window.axe.run(document, {
		runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
	}));
	await ctx.close();
	assert.ok(res.passes.length > 20, `axe ran its checks on ${url}`);
	return res.violations;
}
function report(t, name, violations) {
	for (const v of violations)
		t.diagnostic(`${name}: ${v.impact} ${v.id} (${v.nodes.length}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
	return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
}

test('axe-core finds no serious or critical violations (light and dark)', async (t) => {
	const demoReady = async (page) => {
		await count(page, /reacties?$/);
		await page.locator('article.cd-c').first().waitFor();
	};
	const adminReady = async (page) => {
		await page.locator('#token').fill(TOKEN);
		await page.locator('#signin-form button[type=submit]').click();
		await page.locator('#status:not(:empty)').waitFor();
		await page.keyboard.press('2');
		await page.locator('#list li').first().waitFor();
		// The chart's table open, and a reply form, so that axe sees them.
		await page.locator('#chart-details summary').click();
		await page.locator('#list li').first().focus();
		await page.keyboard.press('e');
		await page.locator('#list li form').waitFor();
	};
	const pageReady = async (page) => { await page.locator('h1').waitFor(); };
	const nojs = OPEN + '/api/v1/comments?thread=' + encodeURIComponent(T) + '&format=html&lang=nl&reply=' + parentId;
	const serious = [];
	for (const scheme of ['light', 'dark']) {
		serious.push(...report(t, `demo (${scheme})`, await axe(OPEN + '/demo/', demoReady, scheme)));
		serious.push(...report(t, `admin (${scheme})`, await axe(HELD + '/admin/', adminReady, scheme)));
		serious.push(...report(t, `privacy (${scheme})`, await axe(OPEN + '/privacy?lang=nl', pageReady, scheme)));
		serious.push(...report(t, `no-JS thread (${scheme})`, await axe(nojs, pageReady, scheme)));
		serious.push(...report(t, `admin at 390 px (${scheme})`, await axe(HELD + '/admin/', adminReady, scheme, { width: 390, height: 844 })));
	}
	// The widget on a phone, its preview open.
	serious.push(...report(t, 'demo at 390 px', await axe(OPEN + '/demo/', async (page) => {
		await demoReady(page);
		await page.getByRole('textbox', { name: 'Reactie' }).fill('- een\n- https://example.org');
		await page.getByRole('tab', { name: 'Voorbeeld' }).click();
		await page.locator('#cd-preview li').first().waitFor();
	}, 'light', { width: 390, height: 844 })));
	assert.deepEqual(serious, []);
});

const ALPHA = `http://127.0.0.1:${process.env.SITES_PORT}`;
const BETA = `http://localhost:${process.env.SITES_PORT}`;

test('two blogs on one daemon: each page shows and posts its own site\'s thread', async () => {
	const a = await open(ALPHA + '/demo/');
	await count(a.page, /^Nog geen reacties$/);
	await post(a.page, { name: 'Alma', email: 'alma@example.nl', text: 'Op de alpha-blog geschreven.' });
	await count(a.page, /^1 reactie$/);
	const b = await open(BETA + '/demo/');
	await count(b.page, /^Nog geen reacties$/);
	assert.equal(await widget(b.page).locator('article').count(), 0, 'the same path on beta is another thread');
	await post(b.page, { name: 'Bert', email: 'bert@example.nl', text: 'Op de beta-blog geschreven.' });
	await count(b.page, /^1 reactie$/);
	await a.page.reload();
	await count(a.page, /^1 reactie$/);
	assert.equal(await comment(a.page, 'beta-blog').count(), 0, 'alpha does not show beta\'s comment');
	await a.ctx.close();
	await b.ctx.close();
	noProblems();
});

test('data-site goes with every request and must be the page\'s site', async () => {
	const withSite = async (id) => {
		const { ctx, page } = await open(null);
		const urls = [];
		page.on('request', (r) => { if (r.url().includes('/api/v1/')) urls.push(r.url()); });
		await page.route(ALPHA + '/demo/', async (route) => {
			const res = await route.fetch();
			const html = (await res.text()).replace('data-thread=', `data-site="${id}" data-thread=`);
			await route.fulfill({ response: res, body: html });
		});
		await page.goto(ALPHA + '/demo/');
		return { ctx, page, urls };
	};
	const good = await withSite('alpha');
	await count(good.page, /^1 reactie$/);
	assert.ok(good.urls.length >= 2 && good.urls.every((u) => u.includes('site=alpha')), good.urls.join(' '));
	await good.ctx.close();
	const wrong = await withSite('beta');
	await widget(wrong.page).getByText('De reacties konden niet worden geladen.').waitFor();
	await wrong.ctx.close();
	problems.splice(0); // the refused requests are logged by the browser
});

test('the moderation page switches between a token\'s sites', async () => {
	const { ctx, page } = await open(ALPHA + '/admin/', { context: { locale: 'en-GB', viewport: { width: 1280, height: 860 } } });
	await page.getByLabel('Admin token').fill(process.env.SITES_TOKEN);
	await page.getByRole('button', { name: 'Sign in' }).click();
	const site = page.getByLabel('Site');
	await site.waitFor();
	assert.deepEqual(await site.locator('option').allTextContents(),
		['All my sites', `alpha (127.0.0.1:${process.env.SITES_PORT})`, `beta (localhost:${process.env.SITES_PORT})`]);
	await page.keyboard.press('3');
	await page.locator('#list li').nth(1).waitFor();
	await site.selectOption('beta');
	await page.locator('#status', { hasText: /^1 published comment\./ }).waitFor();
	await page.locator('#list li', { hasText: 'beta-blog' }).waitFor();
	assert.equal(await page.locator('#list li', { hasText: 'alpha-blog' }).count(), 0, 'beta only');
	await ctx.close();

	const one = await open(ALPHA + '/admin/', { context: { locale: 'en-GB' } });
	await one.page.getByLabel('Admin token').fill(process.env.SITES_ALPHA_TOKEN);
	await one.page.getByRole('button', { name: 'Sign in' }).click();
	await one.page.locator('#status', { hasText: /pending comment/ }).waitFor();
	assert.equal(await one.page.locator('#sitebox').isVisible(), false, 'one site: no switcher');
	await one.page.keyboard.press('3');
	await one.page.locator('#list li', { hasText: 'alpha-blog' }).waitFor();
	assert.equal(await one.page.locator('#list li', { hasText: 'beta-blog' }).count(), 0, 'alpha only');
	await one.ctx.close();
	noProblems();
});

// Compares two PNG files in the browser: their sizes, and the mean absolute
// difference of their grey levels on 64-pixel-wide thumbnails (0 = the same
// picture, 1 = black against white), with the spread of the first picture's
// grey levels (near 0 for a blank page).
async function comparePng(fileA, fileB) {
	const { ctx, page } = await open(null);
	const url = (f) => 'data:image/png;base64,' + readFileSync(f).toString('base64');
	const res = await page.evaluate(async ([a, b]) => {
		const load = (src) => new Promise((ok, no) => {
			const i = new Image();
			i.onload = () => ok(i);
			i.onerror = () => no(new Error('not a PNG'));
			i.src = src;
		});
		const grey = (img) => {
			const c = document.createElement('canvas');
			c.width = 64;
			c.height = Math.max(1, Math.round((64 * img.height) / img.width));
			const g = c.getContext('2d');
			g.drawImage(img, 0, 0, c.width, c.height);
			const d = g.getImageData(0, 0, c.width, c.height).data;
			const out = [];
			for (let i = 0; i < d.length; i += 4) out.push((0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]) / 255);
			return out;
		};
		const [ia, ib] = await Promise.all([load(a), load(b)]);
		const ga = grey(ia), gb = grey(ib);
		const n = Math.min(ga.length, gb.length);
		let diff = Math.abs(ga.length - gb.length);
		for (let i = 0; i < n; i++) diff += Math.abs(ga[i] - gb[i]);
		const mean = ga.reduce((s, v) => s + v, 0) / ga.length;
		const spread = Math.sqrt(ga.reduce((s, v) => s + (v - mean) ** 2, 0) / ga.length);
		return { a: [ia.width, ia.height], b: [ib.width, ib.height], diff: diff / Math.max(ga.length, gb.length), spread };
	}, [url(fileA), url(fileB)]);
	await ctx.close();
	return res;
}

test('screenshots of the demo (light, dark, phone) and the moderation page', async (t) => {
	const shots = [];
	const demo = await open(OPEN + '/demo/', { context: { viewport: { width: 900, height: 1000 } } });
	await count(demo.page, /reacties$/);
	await comment(demo.page, 'Zonder JavaScript').waitFor();
	await demo.page.locator('#commentd').scrollIntoViewIfNeeded();
	// What the picture must show: the count the API gives, and that many
	// comments rendered, with the form below them.
	const thread = await api(OPEN, '/api/v1/comments?limit=0&thread=' + encodeURIComponent(T));
	assert.ok(thread.count >= 3, `the demo thread has comments (${thread.count})`);
	assert.equal(await demo.page.locator('#cd-count').innerText(), `${thread.count} reacties`);
	assert.equal(await widget(demo.page).locator('article.cd-c').count(), thread.count);
	assert.ok(await widget(demo.page).getByRole('button', { name: 'Plaats reactie' }).isVisible());
	shots.push(['demo.png', demo.page]);
	// The same in the dark, and on a phone (the whole page: a picture of
	// the widget alone shifts too much when a time's wording wraps).
	const dark = await open(OPEN + '/demo/', { context: { colorScheme: 'dark', viewport: { width: 900, height: 1000 } } });
	await comment(dark.page, 'Zonder JavaScript').waitFor();
	shots.push(['demo-dark.png', dark.page]);
	const phone = await open(OPEN + '/demo/', { context: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } });
	await comment(phone.page, 'Zonder JavaScript').waitFor();
	shots.push(['demo-phone.png', phone.page]);
	// Fill the pending queue for the admin picture.
	await postApi(HELD, 'Jasper van Weerd', 'jasper@example.nl', 'Vreemd… ik was ervan overtuigd dat het in een PPT stond. Als ik het vind roep ik hier nog wel een keer.');
	await postApi(HELD, 'Casino Bonus', 'win@example.com', 'Casino bonus free spins, win big today http://casino.example.com click here');
	await postApi(HELD, 'Edwin', 'edwin2@example.nl', 'Gebruik social media niet alleen voor bedrijfs-spam maar ook voor nuttige en relevante content.');
	const page = adminPage;
	await page.keyboard.press('1');
	await page.locator('#list li').nth(2).waitFor();
	await page.locator('body').press('j');
	await page.keyboard.press('j');
	// The moderation picture: three pending comments, the spam one among
	// them and the second one current.
	await page.locator('#list li.current', { hasText: 'Casino Bonus' }).waitFor();
	assert.equal(await page.locator('#list li.current').count(), 1);
	assert.match(await page.locator('#status').innerText(), /^3 pending comments/);
	shots.push(['admin.png', page]);
	for (const [name, p] of shots) {
		const file = path.join(OUT, name);
		await p.screenshot({ path: file, fullPage: name !== 'admin.png' });
		if (SHOTS) {
			mkdirSync(SHOTS, { recursive: true });
			copyFileSync(file, path.join(SHOTS, name));
		}
	}
	// Each picture against the one in docs/screenshots: same width, about
	// the same height, and close on a thumbnail (dates and scores differ a
	// little; a broken, blank or restyled page differs a lot).  The two
	// pictures against each other show that the measure tells pages apart.
	const docs = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'docs', 'screenshots');
	for (const [name] of shots) {
		const c = await comparePng(path.join(OUT, name), path.join(docs, name));
		t.diagnostic(`${name}: ${c.a.join('x')} against ${c.b.join('x')} in docs, difference ${c.diff.toFixed(4)}, spread ${c.spread.toFixed(3)}`);
		assert.ok(c.spread > 0.05, `${name} is not a blank page (spread ${c.spread})`);
		assert.equal(c.a[0], c.b[0], `${name} has the width of docs/screenshots/${name}`);
		assert.ok(Math.abs(c.a[1] - c.b[1]) <= 0.1 * c.b[1], `${name} has about the height of docs/screenshots/${name} (${c.a[1]} against ${c.b[1]}); UPDATE_SCREENSHOTS=1 renews them`);
		assert.ok(c.diff < 0.05, `${name} looks like docs/screenshots/${name} (difference ${c.diff}); UPDATE_SCREENSHOTS=1 renews them`);
	}
	const apart = await comparePng(path.join(OUT, 'demo.png'), path.join(OUT, 'admin.png'));
	t.diagnostic(`demo.png against admin.png: difference ${apart.diff.toFixed(4)}`);
	assert.ok(apart.diff > 0.06, `the measure tells the demo from the moderation page (${apart.diff})`);
	noProblems();
	await demo.ctx.close();
	await dark.ctx.close();
	await phone.ctx.close();
});

test('without JavaScript a held comment lands on a visible awaiting-moderation notice', async () => {
	const { ctx, frame } = await noJsFrame(HELD);
	await noJsPost(frame, { name: 'Frank', email: 'frank@example.nl', text: 'Geen JavaScript, wel geduld.' });
	await frame.waitForURL(/&held=1#cd-notice$/);
	const notice = frame.locator('#cd-notice');
	await notice.waitFor();
	assert.match(await notice.innerText(), /^Je reactie wacht op goedkeuring\./);
	assert.ok(await notice.isVisible(), 'the notice is visible');
	assert.equal(await frame.locator('article', { hasText: 'wel geduld' }).count(), 0, 'the comment is not shown');
	await ctx.close();
	noProblems();
});
