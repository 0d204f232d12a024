/* commentd: the embeddable comment widget and the count helper.
 *
 *   <script src="https://comments.example.nl/embed.js" async
 *           data-thread="/2011/01/social-media-realities"></script>
 *   <div id="commentd"></div>
 *
 * A post carries the page's title and address (data-page-title and
 * data-page-url override document.title and the location without its
 * fragment) so that moderators see which article a comment is on.
 *
 * Plain JavaScript, no framework, no build step; works under a strict
 * Content-Security-Policy (no inline script or style; the styles come from
 * embed.css next to this file).  localStorage ("commentd") keeps only: the
 * edit tokens of the author's own comments (with id, thread, parent, until
 * when, whether held, and while the token is valid their text), the ids of
 * liked comments, the sort order, and - only when "remember me" is ticked -
 * name, e-mail address and website.  Documentation: docs/widget.md.
 */
(function () {
	'use strict';
	var d = document;
	var script = d.currentScript || d.querySelector('script[src*="embed.js"]');
	if (!script) return;

	/* One table per language; {n}, {name}, {t} are filled in. */
	var STRINGS = {
		nl: {
			zero: 'Nog geen reacties', one: '1 reactie', other: '{n} reacties',
			title: 'Reacties', write: 'Schrijf een reactie', replyTo: 'Reactie op {name}',
			reply: 'Reageer', replyLabel: 'Reageer op {name}', cancel: 'Annuleer',
			name: 'Naam', email: 'E-mail', emailNote: 'Wordt niet gepubliceerd.',
			website: 'Website (niet verplicht)', text: 'Reactie',
			textNote: 'Je kunt *cursief*, **vet**, `code`, lijsten, citaten (>) en links gebruiken.',
			hp: 'Laat dit veld leeg', submit: 'Plaats reactie', sending: 'Bezig met versturen…',
			posted: 'Je reactie is geplaatst.', held: 'Je reactie wacht op goedkeuring. Alleen jij ziet haar tot een moderator haar goedkeurt.',
			pending: 'Wacht op goedkeuring', heldOnly: 'Je reactie wacht op goedkeuring.',
			edit: 'Bewerk', del: 'Verwijder', save: 'Opslaan', confirmDel: 'Deze reactie verwijderen?',
			deleted: 'Deze reactie is verwijderd.', saved: 'Je wijziging is opgeslagen.',
			removed: 'Je reactie is verwijderd.', until: 'Je kunt je reactie tot {t} bewerken of verwijderen.',
			loadError: 'De reacties konden niet worden geladen.', error: 'Dat lukte niet: ',
			author: 'Vul je naam in (zonder regeleinden).', mail: 'Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.',
			url: 'Een website begint met http:// of https://.', body: 'Schrijf een reactie (niet te lang).',
			rate: 'Even geduld: je gaat te snel.', closed: 'De tijd om te bewerken is voorbij.',
			net: 'Geen verbinding met de reactieserver.', more: 'Meer reacties',
			tabWrite: 'Schrijven', tabPreview: 'Voorbeeld', empty: 'Nog niets om te tonen.',
			remember: 'Onthoud mij op dit apparaat', like: 'Leuk', sort: 'Sorteer',
			oldest: 'Oudste eerst', newest: 'Nieuwste eerst', top: 'Populairste eerst',
			feed: 'Reacties als feed', badge: 'Auteur',
			notice: 'Deze site filtert spam met commentd, op de eigen server.',
			noticeLink: 'Bekijk hoe je reactie-gegevens worden verwerkt.',
			notify: 'Mail me als iemand hierop antwoordt (eerst bevestigen per mail)', check: 'Kijk in je mail om de berichten te bevestigen.'
		},
		en: {
			zero: 'No comments yet', one: '1 comment', other: '{n} comments',
			title: 'Comments', write: 'Write a comment', replyTo: 'Replying to {name}',
			reply: 'Reply', replyLabel: 'Reply to {name}', cancel: 'Cancel',
			name: 'Name', email: 'E-mail', emailNote: 'Will not be published.',
			website: 'Website (optional)', text: 'Comment',
			textNote: 'You can use *italics*, **bold**, `code`, lists, quotes (>) and links.',
			hp: 'Leave this field empty', submit: 'Post comment', sending: 'Sending…',
			posted: 'Your comment has been posted.', held: 'Your comment is awaiting moderation. Only you can see it until a moderator approves it.',
			pending: 'Awaiting moderation', heldOnly: 'Your comment is awaiting moderation.',
			edit: 'Edit', del: 'Delete', save: 'Save', confirmDel: 'Delete this comment?',
			deleted: 'This comment was deleted.', saved: 'Your change has been saved.',
			removed: 'Your comment has been deleted.', until: 'You can edit or delete your comment until {t}.',
			loadError: 'The comments could not be loaded.', error: 'That did not work: ',
			author: 'Please enter your name (on one line).', mail: 'Please enter a valid e-mail address, such as name@example.org.',
			url: 'A website starts with http:// or https://.', body: 'Please write a comment (not too long).',
			rate: 'Please wait a moment: you are going too fast.', closed: 'The time to edit has passed.',
			net: 'No connection to the comment server.', more: 'More comments',
			tabWrite: 'Write', tabPreview: 'Preview', empty: 'Nothing to preview yet.',
			remember: 'Remember me on this device', like: 'Like', sort: 'Sort',
			oldest: 'Oldest first', newest: 'Newest first', top: 'Most liked first',
			feed: 'Comments as a feed', badge: 'Author',
			notice: 'This site filters spam with commentd, on its own server.',
			noticeLink: 'Learn how your comment data is processed.',
			notify: 'E-mail me replies to this (confirm by e-mail first)', check: 'Check your e-mail to confirm the notifications.'
		},
		de: {
			zero: 'Noch keine Kommentare', one: '1 Kommentar', other: '{n} Kommentare',
			title: 'Kommentare', write: 'Schreibe einen Kommentar', replyTo: 'Antwort an {name}',
			reply: 'Antworten', replyLabel: 'Antworten an {name}', cancel: 'Abbrechen',
			name: 'Name', email: 'E-Mail', emailNote: 'Wird nicht veröffentlicht.',
			website: 'Website (freiwillig)', text: 'Kommentar',
			textNote: 'Du kannst *kursiv*, **fett**, `Code`, Listen, Zitate (>) und Links verwenden.',
			hp: 'Dieses Feld leer lassen', submit: 'Kommentar senden', sending: 'Wird gesendet…',
			posted: 'Dein Kommentar wurde veröffentlicht.', held: 'Dein Kommentar wartet auf Freigabe. Nur du siehst ihn, bis ein Moderator ihn freigibt.',
			pending: 'Wartet auf Freigabe', heldOnly: 'Dein Kommentar wartet auf Freigabe.',
			edit: 'Bearbeiten', del: 'Löschen', save: 'Speichern', confirmDel: 'Diesen Kommentar löschen?',
			deleted: 'Dieser Kommentar wurde gelöscht.', saved: 'Deine Änderung wurde gespeichert.',
			removed: 'Dein Kommentar wurde gelöscht.', until: 'Du kannst deinen Kommentar bis {t} bearbeiten oder löschen.',
			loadError: 'Die Kommentare konnten nicht geladen werden.', error: 'Das hat nicht geklappt: ',
			author: 'Bitte gib deinen Namen ein (in einer Zeile).', mail: 'Bitte gib eine gültige E-Mail-Adresse ein, z. B. name@beispiel.de.',
			url: 'Eine Website beginnt mit http:// oder https://.', body: 'Bitte schreibe einen Kommentar (nicht zu lang).',
			rate: 'Einen Moment bitte: du bist zu schnell.', closed: 'Die Zeit zum Bearbeiten ist vorbei.',
			net: 'Keine Verbindung zum Kommentarserver.', more: 'Weitere Kommentare',
			tabWrite: 'Schreiben', tabPreview: 'Vorschau', empty: 'Noch nichts zum Anzeigen.',
			remember: 'Auf diesem Gerät merken', like: 'Gefällt mir', sort: 'Sortieren',
			oldest: 'Älteste zuerst', newest: 'Neueste zuerst', top: 'Beliebteste zuerst',
			feed: 'Kommentare als Feed', badge: 'Autor',
			notice: 'Diese Website filtert Spam mit commentd auf dem eigenen Server.',
			noticeLink: 'Erfahre, wie deine Kommentardaten verarbeitet werden.',
			notify: 'Antworten hierauf per E-Mail (erst per E-Mail bestätigen)', check: 'Sieh in deine E-Mail, um die Benachrichtigungen zu bestätigen.'
		}
	};
	/* Server error codes -> [form field, string key]. */
	var FIELD_ERRORS = {
		missing_author: ['author', 'author'], invalid_author: ['author', 'author'], author_too_long: ['author', 'author'],
		missing_email: ['email', 'mail'], invalid_email: ['email', 'mail'], invalid_url: ['url', 'url'],
		missing_text: ['text', 'body'], invalid_text: ['text', 'body'], text_too_long: ['text', 'body'],
		rate_limited: [null, 'rate'], edit_window_closed: [null, 'closed']
	};

	var ds = script.dataset;
	var lang = (ds.lang || d.documentElement.lang || navigator.language || 'en').toLowerCase().slice(0, 2);
	if (!STRINGS[lang]) lang = 'en';
	var S = STRINGS[lang];
	var base = script.src.replace(/embed\.js([?#].*)?$/, '');
	var api = base + 'api/v1/';
	var thread = ds.thread || location.pathname;
	var threadArg = 'thread=' + encodeURIComponent(thread);
	/* The site (docs/configuration.md, "Sites"): optional, the page's origin tells it. */
	var site = ds.site ? 'site=' + encodeURIComponent(ds.site) : '';
	var pageTitle = ds.pageTitle || d.title;
	var pageUrl = ds.pageUrl || location.href.split('#')[0];
	var honeypot = ds.honeypot || 'website2';
	var KEY = 'commentd';

	function t(key, vars) {
		return S[key].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
	}
	function countText(n) {
		if (!n) return S.zero;
		return n === 1 ? S.one : t('other', { n: n.toLocaleString(lang) });
	}
	/* el('tag.class', {attr: value}, children...): a small element builder. */
	function el(spec, attrs) {
		var parts = spec.split('.');
		var node = d.createElement(parts[0]);
		if (parts[1]) node.className = parts.slice(1).join(' ');
		for (var k in attrs || {}) {
			var v = attrs[k];
			if (v === null || v === undefined || v === false) continue;
			if (k === 'text') node.textContent = v;
			else if (k === 'on') node.addEventListener(v[0], v[1]);
			else node.setAttribute(k, v === true ? '' : v);
		}
		for (var i = 2; i < arguments.length; i++) if (arguments[i]) node.appendChild(arguments[i]);
		return node;
	}
	function button(cls, text, onclick, attrs) {
		attrs = attrs || {};
		attrs.type = 'button';
		attrs.text = text;
		attrs.on = ['click', onclick];
		return el('button.' + cls, attrs);
	}
	function request(method, path, body, token) {
		var headers = {};
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		if (token) headers['X-Edit-Token'] = token;
		if (site) path += (path.indexOf('?') < 0 ? '?' : '&') + site;
		return fetch(api + path, {
			method: method, headers: headers, mode: 'cors', credentials: 'omit',
			body: body === undefined ? undefined : JSON.stringify(body)
		}).then(function (r) {
			return r.json().catch(function () { return {}; }).then(function (j) {
				if (!r.ok) { var e = new Error(j.message || String(r.status)); e.code = j.error; throw e; }
				return j;
			});
		});
	}

	/* localStorage: {me: {n, e, w} (remember me only), sort, liked: [id],
	 * mine: {id: {t: token, u: until (ms), p: held, th: thread, pa: parent,
	 * a: author, x: text, h: html (x and h while the token is valid)}}} */
	function load() {
		var s;
		try { s = JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { s = {}; }
		s.mine = s.mine || {};
		s.liked = s.liked || [];
		/* Before "remember me", name and website were kept unasked: no more. */
		delete s.name;
		delete s.url;
		var now = Date.now(), gone = false;
		for (var id in s.mine) {
			var m = s.mine[id];
			/* The token and text go when the window closes; a held comment's
			 * placeholder stays 30 days. */
			if (m.u < now && m.t) { delete m.t; delete m.x; delete m.h; gone = true; }
			if (m.u + (m.p ? 2592e6 : 0) < now) { delete s.mine[id]; gone = true; }
		}
		if (gone) store(s);
		return s;
	}
	function store(s) {
		try { localStorage.setItem(KEY, JSON.stringify(s)); } catch (e) { /* private mode */ }
	}
	var state = load();

	/* A 5x5 mirrored identicon from the avatar hash (SVG, no inline style). */
	function avatar(hex) {
		var ns = 'http://www.w3.org/2000/svg';
		var svg = d.createElementNS(ns, 'svg');
		svg.setAttribute('viewBox', '0 0 5 5');
		svg.setAttribute('class', 'cd-av');
		svg.setAttribute('aria-hidden', 'true');
		svg.setAttribute('focusable', 'false');
		hex = /^[0-9a-f]{8,}$/.test(hex || '') ? hex : '8b8b8b8b8b8b8b8b';
		var hue = parseInt(hex.slice(0, 4), 16) % 360;
		var fill = 'hsl(' + hue + ',55%,45%)';
		var bits = parseInt(hex.slice(4, 8), 16);
		var bg = d.createElementNS(ns, 'rect');
		bg.setAttribute('width', '5');
		bg.setAttribute('height', '5');
		bg.setAttribute('class', 'cd-avbg');
		svg.appendChild(bg);
		for (var i = 0; i < 15; i++) {
			if (!(bits >> i & 1)) continue;
			var x = Math.floor(i / 5), y = i % 5;
			[x, 4 - x].forEach(function (cx, j) {
				if (j && cx === x) return;
				var r = d.createElementNS(ns, 'rect');
				r.setAttribute('x', cx);
				r.setAttribute('y', y);
				r.setAttribute('width', '1');
				r.setAttribute('height', '1');
				r.setAttribute('fill', fill);
				svg.appendChild(r);
			});
		}
		return svg;
	}
	function when(iso) {
		var date = new Date(iso);
		try {
			return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
		} catch (e) {
			return date.toLocaleString();
		}
	}
	/* "3 minuten geleden": the largest unit that fits; older than a month: the date. */
	var UNITS = [['year', 31536e3], ['month', 2592e3], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];
	function ago(iso) {
		var s = (Date.parse(iso) - Date.now()) / 1e3;
		try {
			var rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
			if (s < -2592e3) return when(iso);
			for (var i = 0; i < UNITS.length; i++)
				if (Math.abs(s) >= UNITS[i][1]) return rtf.format(Math.round(s / UNITS[i][1]), UNITS[i][0]);
			return rtf.format(0, 'second');
		} catch (e) {
			return when(iso);
		}
	}
	function timeEl(iso) {
		return el('time', { datetime: iso, title: when(iso), text: ago(iso) });
	}

	/* Count helper: every [data-commentd-count="/path"] on the page, in one request. */
	function fillCounts(only, n) {
		var nodes = d.querySelectorAll('[data-commentd-count]');
		if (only !== undefined) {
			for (var i = 0; i < nodes.length; i++)
				if (nodes[i].getAttribute('data-commentd-count') === only) nodes[i].textContent = countText(n);
			return;
		}
		var paths = [];
		for (var j = 0; j < nodes.length; j++) {
			var p = nodes[j].getAttribute('data-commentd-count');
			if (p && paths.indexOf(p) < 0) paths.push(p);
		}
		for (var k = 0; k < paths.length; k += 200) {
			request('POST', 'counts', paths.slice(k, k + 200)).then(function (map) {
				for (var i = 0; i < nodes.length; i++) {
					var n = map[nodes[i].getAttribute('data-commentd-count')];
					if (typeof n === 'number') nodes[i].textContent = countText(n);
				}
			}, function () { /* leave the page's own text */ });
		}
	}

	var root = d.querySelector(ds.target || '#commentd');
	fillCounts();
	if (!root) return; /* only the count helper on this page */

	if (ds.css !== 'false' && !d.querySelector('link[href="' + base + 'embed.css"]'))
		d.head.appendChild(el('link', { rel: 'stylesheet', href: base + 'embed.css' }));

	var count = 0;
	var likes = false; /* the site takes likes (the thread's likes_enabled) */
	var heading = el('h2.cd-count', { id: 'cd-count', tabindex: '-1' });
	var live = el('p.cd-status', { role: 'status', 'aria-live': 'polite' });
	var list = el('ol.cd-list', { 'aria-labelledby': 'cd-count' });
	var nodes = {}; /* id -> {li, art, replies, data} */

	function say(msg, bad) {
		live.textContent = '';
		live.classList.toggle('cd-bad', !!bad);
		/* A fresh text node so screen readers announce a repeated message. */
		setTimeout(function () { live.textContent = msg; }, 30);
	}
	function setCount(n) {
		count = Math.max(0, n);
		heading.textContent = countText(count);
		fillCounts(thread, count);
	}

	/* ---- sorting and the feed ---- */
	var sortSel = el('select', { id: 'cd-sort' });
	var sortOpts = {};
	['oldest', 'newest', 'top'].forEach(function (k) {
		sortSel.appendChild(sortOpts[k] = el('option', { value: k, text: S[k] }));
	});
	var tools = el('div.cd-tools', null,
		el('span', null, el('label', { for: 'cd-sort', text: S.sort + ' ' }), sortSel),
		el('a.cd-feed', { href: api + 'feed?' + threadArg + '&lang=' + lang + (site ? '&' + site : ''), type: 'application/atom+xml', text: S.feed }));
	sortSel.addEventListener('change', function () {
		state = load();
		state.sort = sortSel.value;
		store(state);
		reload();
	});

	/* ---- the form ---- */
	function field(name, label, input, note) {
		var id = 'cd-' + name;
		input.id = id;
		input.name = name;
		if (note) input.setAttribute('aria-describedby', id + '-note');
		return el('div.cd-f', null, el('label', { for: id, text: label }), input,
			note ? el('small', { id: id + '-note', text: note }) : null);
	}
	var f = {
		thread: el('input', { type: 'hidden', name: 'thread', value: thread }),
		parent: el('input', { type: 'hidden', name: 'parent', value: '' }),
		redirect: el('input', { type: 'hidden', name: 'redirect', value: location.href.split('#')[0] }),
		stamp: el('input', { type: 'hidden', name: 'stamp', value: '' }),
		author: el('input', { required: true, autocomplete: 'name', maxlength: '100' }),
		email: el('input', { type: 'email', required: true, autocomplete: 'email', maxlength: '254' }),
		url: el('input', { type: 'url', autocomplete: 'url', inputmode: 'url', placeholder: 'https://' }),
		text: el('textarea', { required: true, rows: '5' }),
		hp: el('input', { type: 'text', tabindex: '-1', autocomplete: 'off' }),
		remember: el('input', { type: 'checkbox', id: 'cd-remember' }),
		notify: el('input', { type: 'checkbox', id: 'cd-notify', name: 'notify', value: '1' }),
		submit: el('button.cd-btn', { type: 'submit', text: S.submit })
	};

	/* Write / Preview: a tab list over the text field and its rendering
	 * (POST /api/v1/preview, the renderer that stores comments). */
	var preview = el('div.cd-body.cd-preview', { id: 'cd-preview', role: 'tabpanel', 'aria-labelledby': 'cd-tab-p', tabindex: '0', hidden: true });
	var tabs = [
		el('button.cd-tab', { type: 'button', role: 'tab', id: 'cd-tab-w', 'aria-controls': 'cd-write', text: S.tabWrite }),
		el('button.cd-tab', { type: 'button', role: 'tab', id: 'cd-tab-p', 'aria-controls': 'cd-preview', text: S.tabPreview })
	];
	function showTab(i, focus) {
		tabs.forEach(function (b, j) {
			b.setAttribute('aria-selected', String(i === j));
			b.tabIndex = i === j ? 0 : -1;
		});
		writePanel.hidden = !!i;
		preview.hidden = !i;
		if (focus) tabs[i].focus();
		if (!i) return;
		preview.textContent = '';
		if (!f.text.value.trim()) { preview.appendChild(el('p', { text: S.empty })); return; }
		request('POST', 'preview', { text: f.text.value }).then(function (j) {
			/* html comes from the server's safe Markdown renderer. */
			preview.innerHTML = j.html;
		}, fieldError);
	}
	tabs.forEach(function (b, i) {
		b.addEventListener('click', function () { showTab(i); });
		b.addEventListener('keydown', function (e) {
			if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') showTab(1 - i, true);
		});
	});
	var writePanel = el('div', { id: 'cd-write', role: 'tabpanel', 'aria-labelledby': 'cd-tab-w' }, f.text);
	f.text.id = 'cd-text';
	f.text.name = 'text';
	f.text.setAttribute('aria-describedby', 'cd-text-note');
	var textField = el('div.cd-f', null,
		el('div.cd-texthead', null, el('label', { for: 'cd-text', text: S.text }),
			el('div.cd-tabs', { role: 'tablist', 'aria-label': S.text }, tabs[0], tabs[1])),
		writePanel, preview, el('small', { id: 'cd-text-note', text: S.textNote }));
	showTab(0);

	var replyNote = el('span');
	var cancelReply = button('cd-link', S.cancel, function () { endReply(true); });
	var replying = el('p.cd-replying', { hidden: true }, replyNote, d.createTextNode(' '), cancelReply);
	var formTitle = el('h3.cd-formtitle', { id: 'cd-form-title', text: S.write });
	var privacy = el('a', { href: base + 'privacy?lang=' + lang + (site ? '&' + site : ''), text: S.noticeLink });
	var form = el('form.cd-form', { method: 'post', action: api + 'comments' + (site ? '?' + site : ''), 'aria-labelledby': 'cd-form-title' },
		formTitle, replying, f.thread, f.parent, f.redirect, f.stamp,
		textField,
		field('author', S.name, f.author),
		field('email', S.email, f.email, S.emailNote),
		field('url', S.website, f.url),
		/* The honeypot: hidden from people and assistive technology alike. */
		el('div.cd-hp', { hidden: true, 'aria-hidden': 'true' }, field(honeypot, S.hp, f.hp)),
		el('div.cd-f.cd-check', null, f.remember, el('label', { for: 'cd-remember', text: S.remember })),
		/* Shown when the server sends mail (the thread's "notify"). */
		f.notifyBox = el('div.cd-f.cd-check', { hidden: true }, f.notify, el('label', { for: 'cd-notify', text: S.notify })),
		el('div.cd-submit', null, f.submit),
		el('p.cd-notice', null, d.createTextNode(S.notice + ' '), privacy));
	if (state.me) {
		f.author.value = state.me.n || '';
		f.email.value = state.me.e || '';
		f.url.value = state.me.w || '';
		f.remember.checked = true;
	}
	var formHome = el('div.cd-formhome', null, form);
	var replyButton = null;

	function replyTo(id, btn) {
		var n = nodes[id];
		if (!n) return;
		f.parent.value = id;
		replyNote.textContent = t('replyTo', { name: n.data.author });
		replying.hidden = false;
		replyButton = btn;
		n.art.after(form);
		f.text.focus();
	}
	function endReply(refocus) {
		f.parent.value = '';
		replying.hidden = true;
		formHome.appendChild(form);
		if (refocus && replyButton) replyButton.focus();
		replyButton = null;
	}
	form.addEventListener('keydown', function (e) {
		if (e.key === 'Escape' && f.parent.value) endReply(true);
	});

	function fieldError(err) {
		var m = FIELD_ERRORS[err.code];
		var input = m && m[0] && f[m[0]];
		if (input) {
			input.setAttribute('aria-invalid', 'true');
			showTab(0);
			input.focus();
		}
		say(S.error + (m ? S[m[1]] : err.code ? err.message : S.net), true);
	}
	form.addEventListener('input', function (e) { e.target.removeAttribute('aria-invalid'); });
	form.addEventListener('submit', function (e) {
		e.preventDefault();
		var body = {
			thread: thread, author: f.author.value, email: f.email.value, text: f.text.value,
			url: f.url.value.trim() || null, parent: f.parent.value ? Number(f.parent.value) : null,
			page_title: pageTitle, page_url: pageUrl
		};
		if (f.stamp.value) body.stamp = f.stamp.value;
		if (f.hp.value) body[honeypot] = f.hp.value;
		if (f.notify.checked && !f.notifyBox.hidden) body.notify = true;
		f.submit.disabled = true;
		say(S.sending);
		request('POST', 'comments', body).then(function (c) {
			state = load();
			if (f.remember.checked) state.me = { n: body.author.trim(), e: body.email.trim(), w: body.url || '' };
			else delete state.me;
			if (c.edit_token) {
				state.mine[c.id] = { t: c.edit_token, u: Date.parse(c.edit_until), p: c.status === 'pending' ? 1 : 0,
					th: thread, pa: c.parent, a: c.author, x: body.text, h: c.html };
			}
			store(state);
			f.text.value = '';
			showTab(0);
			endReply(false);
			c.replies = [];
			c.text = body.text;
			var li = build(c, c.status === 'pending');
			(c.parent && nodes[c.parent] ? nodes[c.parent].replies : list).appendChild(li);
			if (c.status === 'published') setCount(count + 1);
			say((c.status === 'pending' ? S.held : S.posted) + (body.notify ? ' ' + S.check : ''));
			f.notify.checked = false;
			nodes[c.id].art.focus();
		}, fieldError).then(function () { f.submit.disabled = false; });
	});

	/* ---- comments ---- */
	function mine(id) {
		var m = state.mine[id];
		return m && m.t && m.u > Date.now() ? m : null;
	}
	function build(c, held) {
		var id = c.id;
		var art = el('article.cd-c', { id: 'comment-' + id, tabindex: '-1', 'aria-labelledby': 'cd-a-' + id });
		var replies = el('ol.cd-list.cd-replies');
		var li = el('li.cd-item', null, art, replies);
		nodes[id] = { li: li, art: art, replies: replies, data: c };
		fill(nodes[id], held);
		(c.replies || []).forEach(function (r) { replies.appendChild(build(r)); });
		return li;
	}
	function likeButton(c) {
		var busy = false;
		/* Not disabled while busy: that would take the focus away. */
		var b = button('cd-link.cd-like', '', function () {
			if (busy) return;
			busy = true;
			request('POST', 'comments/' + c.id + '/like').then(function (j) {
				state = load();
				state.liked = state.liked.filter(function (x) { return x !== c.id; });
				if (j.liked) state.liked.push(c.id);
				state.liked = state.liked.slice(-500);
				store(state);
				c.likes = j.likes;
				show();
			}, fieldError).then(function () { busy = false; });
		});
		function show() {
			b.textContent = S.like + (c.likes ? ' ' + c.likes : '');
			b.setAttribute('aria-pressed', String(state.liked.indexOf(c.id) >= 0));
		}
		show();
		return b;
	}
	function fill(n, held) {
		var c = n.data, id = c.id, art = n.art;
		art.textContent = '';
		art.classList.toggle('cd-held', !!held);
		if (c.deleted) {
			art.appendChild(el('p.cd-gone', { id: 'cd-a-' + id, text: S.deleted }));
			return;
		}
		var name = c.url && /^https?:\/\//.test(c.url)
			? el('a', { href: c.url, rel: 'nofollow ugc noopener', text: c.author })
			: d.createTextNode(c.author || '');
		var head = el('header.cd-h', null, avatar(c.avatar), el('span.cd-a', { id: 'cd-a-' + id }, name));
		/* A reply the site's author wrote from the moderation page. */
		if (c.author_badge) head.appendChild(el('span.cd-author', { text: S.badge }));
		art.classList.toggle('cd-by-author', !!c.author_badge);
		if (c.created) head.appendChild(el('a.cd-t', { href: '#comment-' + id }, timeEl(c.created)));
		if (held) head.appendChild(el('span.cd-badge', { text: S.pending }));
		art.appendChild(head);
		var body = el('div.cd-body');
		/* html was rendered by the server from a safe Markdown subset. */
		if (c.html) body.innerHTML = c.html;
		else body.appendChild(el('p', { text: S.heldOnly }));
		art.appendChild(body);
		var acts = el('div.cd-acts');
		if (!held) {
			acts.appendChild(button('cd-link', S.reply, function (e) { replyTo(id, e.currentTarget); },
				{ 'aria-label': t('replyLabel', { name: c.author }) }));
			if (likes) acts.appendChild(likeButton(c));
		}
		var m = mine(id);
		if (m) {
			if (c.html) acts.appendChild(button('cd-link', S.edit, function () { edit(n, m); }));
			acts.appendChild(button('cd-link', S.del, function () { remove(n, m); }));
			acts.appendChild(el('small.cd-until', { text: t('until', { t: when(new Date(m.u).toISOString()) }) }));
			setTimeout(function () { if (n.art.isConnected && !n.editing) { state = load(); fill(n, held); } }, Math.min(m.u - Date.now() + 500, 2147e6));
		}
		if (acts.firstChild) art.appendChild(acts);
	}
	function edit(n, m) {
		var c = n.data;
		var id = 'cd-edit-' + c.id;
		var area = el('textarea', { id: id, rows: '5', required: true });
		var tmp = el('div');
		tmp.innerHTML = c.html;
		area.value = c.text || m.x || tmp.textContent.trim();
		var cancel = button('cd-link', S.cancel, done);
		var ef = el('form.cd-edit', null, el('div.cd-f', null, el('label', { for: id, text: S.text }), area),
			el('div.cd-submit', null, el('button.cd-btn', { type: 'submit', text: S.save }), d.createTextNode(' '), cancel));
		var body = n.art.querySelector('.cd-body');
		var acts = n.art.querySelector('.cd-acts');
		body.hidden = true;
		if (acts) acts.hidden = true;
		body.after(ef);
		n.editing = true;
		area.focus();
		function done() {
			n.editing = false;
			fill(n, n.art.classList.contains('cd-held'));
			n.art.focus();
		}
		ef.addEventListener('submit', function (e) {
			e.preventDefault();
			request('PATCH', 'comments/' + c.id, { text: area.value }, m.t).then(function (j) {
				var held = j.status === 'pending';
				if (held && !n.art.classList.contains('cd-held')) setCount(count - 1);
				j.replies = c.replies;
				j.text = area.value;
				n.data = j;
				state = load();
				var s = state.mine[c.id];
				if (s) { s.p = held ? 1 : 0; s.x = j.text; s.h = j.html; }
				store(state);
				n.art.classList.toggle('cd-held', held);
				done();
				say(held ? S.held : S.saved);
			}, function (err) {
				area.setAttribute('aria-invalid', 'true');
				say(S.error + (FIELD_ERRORS[err.code] ? S[FIELD_ERRORS[err.code][1]] : err.message), true);
			});
		});
	}
	function remove(n, m) {
		if (!window.confirm(S.confirmDel)) return;
		var c = n.data;
		request('DELETE', 'comments/' + c.id, undefined, m.t).then(function () {
			var held = n.art.classList.contains('cd-held');
			state = load();
			delete state.mine[c.id];
			store(state);
			if (!held) setCount(count - 1);
			if (n.replies.firstChild) {
				n.data = { id: c.id, deleted: true };
				fill(n);
			} else {
				n.li.remove();
			}
			heading.focus();
			say(S.removed);
		}, function (err) { say(S.error + (err.code === 'edit_window_closed' ? S.closed : err.message), true); });
	}

	/* ---- pages ---- */
	var moreBtn = null;
	var want = 0; /* a #comment-N to bring into view once its page is here */
	var hunt = 0; /* pages loaded looking for it (at most 40) */
	function query(cursor) {
		return 'comments?' + threadArg + '&sort=' + sortSel.value + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
	}
	function load_page(cursor) {
		return request('GET', query(cursor)).then(function (data) {
			if (!cursor) first(data);
			addPage(data);
		}, function () { if (moreBtn) moreBtn.disabled = false; say(S.loadError, true); });
	}
	/* A page of the thread: its comments go at the end, a reply whose parent
	 * came on an earlier page under that parent; a cursor brings a button
	 * for the next page, or the next page itself while a linked comment is
	 * still missing. */
	function addPage(data) {
		if (moreBtn) { moreBtn.remove(); moreBtn = null; }
		(data.comments || []).forEach(function (c) {
			(c.parent && nodes[c.parent] ? nodes[c.parent].replies : list).appendChild(build(c));
		});
		if (data.cursor) {
			moreBtn = button('cd-btn.cd-more', S.more, function () {
				moreBtn.disabled = true;
				load_page(data.cursor);
			});
			list.after(moreBtn);
			if (want && !nodes[want] && hunt++ < 40) { moreBtn.disabled = true; load_page(data.cursor); return; }
		}
		ownHeld();
		if (want && nodes[want]) {
			nodes[want].art.scrollIntoView();
			nodes[want].art.focus();
		}
		want = 0;
	}
	/* The author's own held comments: only their browser knows of them. */
	function ownHeld() {
		var changed = false;
		Object.keys(state.mine).forEach(function (id) {
			var m = state.mine[id];
			if (m.th !== thread || !m.p || nodes[id]) return;
			if (m.pa && !nodes[m.pa]) return; /* its parent's page is not here (yet) */
			var li = build({ id: Number(id), parent: m.pa, author: m.a || '', html: m.t ? m.h : '', text: m.x, replies: [] }, true);
			(m.pa ? nodes[m.pa].replies : list).appendChild(li);
		});
		/* Published meanwhile: it came from the server. */
		Object.keys(state.mine).forEach(function (id) {
			var m = state.mine[id];
			if (m.th === thread && m.p && nodes[id] && !nodes[id].art.classList.contains('cd-held')) { m.p = 0; changed = true; }
		});
		if (changed) store(state);
	}
	function first(data) {
		if (data.stamp) f.stamp.value = data.stamp;
		f.notifyBox.hidden = !data.notify;
		likes = data.likes_enabled !== false;
		sortOpts.top.hidden = !likes;
		privacy.href = data.privacy_url || base + 'privacy?lang=' + lang + (site ? '&' + site : '');
		list.textContent = '';
		nodes = {};
		setCount(data.count || 0);
	}
	function reload() {
		var hash = location.hash.match(/^#comment-(\d+)$/);
		want = hash ? Number(hash[1]) : 0;
		hunt = 0;
		return load_page();
	}

	root.textContent = '';
	root.classList.add('cd-root');
	if (ds.theme === 'light' || ds.theme === 'dark') root.classList.add('cd-' + ds.theme);
	root.setAttribute('lang', lang);
	root.appendChild(el('section.cd-wrap', { 'aria-label': S.title }, heading, tools, list, formHome, live));
	heading.textContent = S.title;
	sortSel.value = state.sort && sortOpts[state.sort] ? state.sort : 'oldest';
	reload();
	window.addEventListener('hashchange', function () {
		var hash = location.hash.match(/^#comment-(\d+)$/);
		if (hash && !nodes[hash[1]] && moreBtn) { want = Number(hash[1]); hunt = 0; moreBtn.click(); }
	});
	/* Relative times move on. */
	setInterval(function () {
		var times = root.querySelectorAll('time[datetime]');
		for (var i = 0; i < times.length; i++) times[i].textContent = ago(times[i].getAttribute('datetime'));
	}, 6e4);
})();
