// commentd's Akismet-compatible endpoint driven by real Akismet client
// libraries from npm, unchanged:
//   - @cedx/akismet: the key as the api_key field, pointed at commentd with
//     its baseUrl option;
//   - akismet-api: the key as a subdomain (<key>.localhost:<port>).  Names
//     under .localhost do not resolve on stock Debian (no nss-myhostname), so
//     this process installs its own resolver for *.localhost
//     (dns.lookup); nothing outside this process changes.
//
// Run by run.py, which starts the daemon and passes COMMENTD_PORT,
// AKISMET_KEY and AKISMET_BLOG.  node --test --test-reporter=tap.
import assert from "node:assert/strict";
import dns from "node:dns";
import {after, before, describe, it} from "node:test";

import {Author, Blog, CheckResult, Client, Comment} from "@cedx/akismet";
import akismetApi from "akismet-api";

const port = Number(process.env.COMMENTD_PORT);
const key = process.env.AKISMET_KEY;
const blogUrl = process.env.AKISMET_BLOG ?? "http://blog.example.org/";
const badKey = key.replace(/./g, c => (c === "0" ? "1" : "0"));
assert.ok(port > 0 && /^[0-9a-f]{12}$/.test(key), "run.py passes COMMENTD_PORT and AKISMET_KEY");

// In-process name resolution: <anything>.localhost is 127.0.0.1 (RFC 6761
// reserves the name for loopback); every other name goes to the system
// resolver.  akismet-api's HTTP library (superagent) opens each connection
// with its own agent and no lookup option, so Node's net module calls
// dns.lookup: the hook goes there, for the duration of these tests.
const systemLookup = dns.lookup;
const lookups = [];
function lookupLocalhost(hostname, options, callback) {
	if (typeof options === "function") {
		callback = options;
		options = {};
	}
	if (typeof options === "number") options = {family: options};
	const name = String(hostname).toLowerCase();
	if (name === "localhost" || name.endsWith(".localhost")) {
		lookups.push(name);
		if (options && options.all) process.nextTick(callback, null, [{address: "127.0.0.1", family: 4}]);
		else process.nextTick(callback, null, "127.0.0.1", 4);
		return {};
	}
	return systemLookup.call(dns, hostname, options, callback);
}
before(() => {
	dns.lookup = lookupLocalhost;
});
after(() => {
	dns.lookup = systemLookup;
});

// A distinct comment per test: the classifier and its ledger are shared.
let serial = 0;
function fields(extra = {}) {
	serial++;
	return {
		ip: `198.51.100.${serial}`,
		useragent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		referrer: `${blogUrl}2024/01/post-${serial}`,
		permalink: `${blogUrl}2024/01/post-${serial}`,
		type: "comment",
		name: `Reader ${serial}`,
		email: `reader${serial}@mail.example.net`,
		content: `Thanks for the write-up number ${serial}; the part about backups helped me.`,
		...extra,
	};
}

function cedxComment(extra = {}) {
	const f = fields(extra);
	return new Comment({
		author: new Author({
			ipAddress: f.ip,
			userAgent: f.useragent,
			name: f.name,
			email: f.email,
			role: extra.role ?? "",
		}),
		content: f.content,
		permalink: new URL(f.permalink),
		referrer: new URL(f.referrer),
		type: f.type,
		context: ["backups", "howto"],
		date: new Date(),
	});
}

describe("@cedx/akismet (api_key field, baseUrl option)", () => {
	const baseUrl = `http://127.0.0.1:${port}`;
	const blog = new Blog({url: blogUrl, charset: "UTF-8", languages: ["en", "nl"]});
	const client = new Client(key, blog, {baseUrl});

	it("verify-key: a site key is valid", async () => {
		assert.equal(await client.verifyKey(), true);
	});

	it("verify-key: a bad key is invalid", async () => {
		assert.equal(await new Client(badKey, blog, {baseUrl}).verifyKey(), false);
	});

	it("comment-check: an ordinary comment is ham", async () => {
		assert.equal(await client.checkComment(cedxComment()), CheckResult.ham);
	});

	it("comment-check: the test author viagra-test-123 is spam", async () => {
		assert.equal(await client.checkComment(cedxComment({name: "viagra-test-123"})),
			CheckResult.spam);
	});

	it("comment-check: the guaranteed-spam address is spam", async () => {
		const c = cedxComment({email: "akismet-guaranteed-spam@example.com"});
		assert.equal(await client.checkComment(c), CheckResult.spam);
	});

	it("comment-check: user_role administrator is ham, even with the test author", async () => {
		const c = cedxComment({name: "viagra-test-123", role: "administrator"});
		assert.equal(await client.checkComment(c), CheckResult.ham);
	});

	it("submit-spam turns a ham verdict into blatant spam (discard), submit-ham back", async () => {
		const c = cedxComment({content: "Great article, check my profile for more tips."});
		assert.equal(await client.checkComment(c), CheckResult.ham);
		await client.submitSpam(c);
		assert.equal(await client.checkComment(c), CheckResult.pervasiveSpam,
			"X-akismet-pro-tip: discard after submit-spam");
		await client.submitSpam(c); // the same report again is harmless
		await client.submitHam(c);
		assert.equal(await client.checkComment(c), CheckResult.ham, "submit-ham relearns it");
	});

	it("is_test submissions answer like the others", async () => {
		const testClient = new Client(key, blog, {baseUrl, isTest: true});
		const c = cedxComment();
		await testClient.submitSpam(c);
		assert.equal(await testClient.checkComment(c), CheckResult.ham,
			"an is_test submit-spam does not train");
	});

	it("a bad key makes every call fail with the debug help", async () => {
		const bad = new Client(badKey, blog, {baseUrl});
		await assert.rejects(bad.checkComment(cedxComment()), /Invalid key/);
		await assert.rejects(bad.submitSpam(cedxComment()), /Invalid key/);
	});
});

describe("akismet-api (key as a subdomain of the host)", () => {
	const {AkismetClient} = akismetApi;
	const options = {key, blog: blogUrl, host: `localhost:${port}`, protocol: "http", charset: "UTF-8"};
	const client = new AkismetClient(options);
	const bad = new AkismetClient({...options, key: badKey});

	it("resolves <key>.localhost in this process only", async () => {
		const resolved = await new Promise(resolve =>
			lookupLocalhost(`${key}.localhost`, {all: true}, (e, a) => resolve(a)));
		assert.deepEqual(resolved, [{address: "127.0.0.1", family: 4}]);
	});

	it("verify-key (bare host, key field): valid", async () => {
		assert.equal(await client.verifyKey(), true);
	});

	it("verify-key: a bad key is invalid", async () => {
		assert.equal(await bad.verifyKey(), false);
	});

	it("comment-check: an ordinary comment is ham", async () => {
		lookups.length = 0;
		assert.equal(await client.checkSpam(fields()), false);
		assert.ok(lookups.includes(`${key}.localhost`), "the request went to <key>.localhost");
	});

	it("comment-check: the test author viagra-test-123 is spam", async () => {
		assert.equal(await client.checkSpam(fields({name: "viagra-test-123"})), true);
	});

	it("comment-check: a filled honeypot is spam", async () => {
		assert.equal(await client.checkSpam(fields({honeypot: "https://spam.example/"})), true);
	});

	it("comment-check: role administrator is ham", async () => {
		assert.equal(await client.checkSpam(fields({name: "viagra-test-123", role: "administrator"})),
			false);
	});

	it("submit-spam changes a later verdict, submit-ham changes it back", async () => {
		const c = fields({content: "Nice post! I also write about this, visit my site."});
		assert.equal(await client.checkSpam(c), false);
		const spamAnswer = await client.submitSpam(c);
		assert.equal(spamAnswer.text, "Thanks for making the web a better place.");
		assert.equal(await client.checkSpam(c), true);
		const hamAnswer = await client.submitHam(c);
		assert.equal(hamAnswer.text, "Thanks for making the web a better place.");
		assert.equal(await client.checkSpam(c), false);
	});

	it("what one client teaches, the other sees", async () => {
		const c = fields({content: "Cross-client report of a comment."});
		await client.submitSpam(c);
		const cedx = new Client(key, new Blog({url: blogUrl}), {baseUrl: `http://127.0.0.1:${port}`});
		const same = new Comment({
			author: new Author({ipAddress: c.ip, name: c.name, email: c.email}),
			content: c.content,
			permalink: new URL(c.permalink),
		});
		assert.equal(await cedx.checkComment(same), CheckResult.pervasiveSpam);
	});

	it("a bad key: comment-check fails with Invalid API key", async () => {
		await assert.rejects(bad.checkSpam(fields()), /Invalid API key/);
	});
});
