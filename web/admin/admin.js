/* commentd moderation page: sign in with an admin token, work the pending
 * and spam queues (with the tokens that decided each score), approve, mark
 * spam, delete or edit with a click or a key, act on many at once, search,
 * stats.  A token for several sites gets a site switcher (every request then
 * carries ?site=).  Talks only to /api/v1/admin/ on its own origin; the token
 * and the chosen site stay in sessionStorage (this tab). */
(function () {
	'use strict';
	var d = document;
	var $ = function (sel) { return d.querySelector(sel); };
	var API = new URL('../api/v1/admin/', location.href).href;
	var KEY = 'commentd-admin-token';
	var token = sessionStorage.getItem(KEY) || '';
	var SITE_KEY = 'commentd-admin-site';
	var site = sessionStorage.getItem(SITE_KEY) || ''; /* '' = every site of the token */
	var manySites = false;
	var view = 'pending';
	var next = null;
	var items = []; /* {data, li, box} in list order */
	var current = -1;
	var DONE = { approve: 'approved', spam: 'marked as spam', delete: 'deleted' };
	var STATUS_AFTER = { approve: 'published', spam: 'spam', delete: 'deleted' };

	function el(tag, attrs, kids) {
		var n = d.createElement(tag);
		for (var k in attrs || {}) {
			if (attrs[k] === false || attrs[k] == null) continue;
			if (k === 'text') n.textContent = attrs[k];
			else if (k === 'className') n.className = attrs[k];
			else n.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
		}
		(kids || []).forEach(function (c) { if (c) n.appendChild(typeof c === 'string' ? d.createTextNode(c) : c); });
		return n;
	}
	function api(method, path, body) {
		var h = { Authorization: 'Bearer ' + token };
		if (body !== undefined) h['Content-Type'] = 'application/json';
		if (site) path += (path.indexOf('?') < 0 ? '?' : '&') + 'site=' + encodeURIComponent(site);
		return fetch(API + path, {
			method: method, headers: h, cache: 'no-store',
			body: body === undefined ? undefined : JSON.stringify(body)
		}).then(function (r) {
			return r.json().catch(function () { return {}; }).then(function (j) {
				if (!r.ok) {
					var e = new Error(j.message || 'HTTP ' + r.status);
					e.status = r.status;
					throw e;
				}
				return j;
			});
		});
	}
	function say(msg, bad) {
		var s = $('#status');
		s.textContent = msg;
		s.classList.toggle('bad', !!bad);
	}
	function failed(err) {
		if (err.status === 401) return signOut('Your token is no longer accepted; sign in again.');
		say('Failed: ' + err.message, true);
	}
	function when(iso) {
		try {
			return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
		} catch (e) {
			return iso;
		}
	}

	/* ---- sign in ---- */
	function showApp(on) {
		$('#signin').hidden = on;
		$('#app').hidden = !on;
		$('#signout').hidden = !on;
	}
	function signOut(msg) {
		token = '';
		site = '';
		sessionStorage.removeItem(KEY);
		sessionStorage.removeItem(SITE_KEY);
		showApp(false);
		$('#signin-status').textContent = msg || 'Signed out.';
		$('#token').focus();
	}
	$('#signin-form').addEventListener('submit', function (e) {
		e.preventDefault();
		token = $('#token').value.trim();
		$('#signin-status').textContent = 'Checking…';
		api('GET', 'stats').then(function (st) {
			sessionStorage.setItem(KEY, token);
			$('#token').value = '';
			$('#signin-status').textContent = '';
			start(st);
		}, function (err) {
			token = '';
			$('#signin-status').textContent = err.status === 401 ? 'That token is not valid.' : 'Sign-in failed: ' + err.message;
			$('#token').focus();
		});
	});
	$('#signout').addEventListener('click', function () { signOut(); });

	function start() {
		showApp(true);
		sites().then(function () {
			load(false);
			$('#queue-h').focus();
		});
	}

	/* ---- sites: a switcher when the token has more than one ---- */
	function sites() {
		var keep = site;
		site = '';
		return api('GET', 'sites').then(function (j) {
			var sel = $('#site');
			var ids = j.sites.map(function (s) { return s.id; });
			manySites = ids.length > 1;
			$('#sitebox').hidden = !manySites;
			while (sel.options.length > 1) sel.remove(1);
			j.sites.forEach(function (s) {
				sel.appendChild(el('option', { value: s.id, text: s.id + (s.origins.length ? ' (' + s.origins[0].replace(/^https?:\/\//, '') + ')' : '') }));
			});
			site = manySites && ids.indexOf(keep) >= 0 ? keep : '';
			sel.value = site;
		}, function () { site = keep; });
	}
	$('#site').addEventListener('change', function (e) {
		site = e.target.value;
		if (site) sessionStorage.setItem(SITE_KEY, site);
		else sessionStorage.removeItem(SITE_KEY);
		load(false);
	});

	/* ---- stats ---- */
	function stats(st) {
		if (!st) return api('GET', 'stats').then(stats, failed);
		var c = st.comments || {}, cl = st.classifier || {};
		Object.keys(c).forEach(function (k) {
			var n = d.querySelector('[data-count="' + k + '"]');
			if (n) n.textContent = '(' + c[k] + ')';
		});
		var rows = [
			['Published', c.published], ['Pending', c.pending], ['Spam', c.spam], ['Deleted', c.deleted],
			['Discarded', st.discarded], ['Learned spam / ham', cl.learned_spam + ' / ' + cl.learned_ham],
			['Classifier tokens', cl.tokens], ['Cold start', cl.cold_start ? 'yes (learning)' : 'no'],
			['Decisions (30 days)', st.decisions_30d], ['Reversals (30 days)', st.reversals_30d]
		];
		var dl = $('#stats');
		dl.textContent = '';
		rows.forEach(function (r) {
			dl.appendChild(el('dt', { text: r[0] }));
			dl.appendChild(el('dd', { text: String(r[1] === undefined ? '–' : r[1]) }));
		});
	}

	/* ---- the list ---- */
	function query(after) {
		var p = new URLSearchParams({ status: view, limit: '50' });
		var q = $('#q').value.trim(), th = $('#thread').value.trim();
		if (q) p.set('q', q);
		if (th) p.set('thread', th);
		if (after) p.set('after', after);
		return 'comments?' + p;
	}
	function load(more) {
		if (!more) {
			stats();
			items = [];
			current = -1;
			$('#list').textContent = '';
		}
		return api('GET', query(more ? next : null)).then(function (j) {
			next = j.next;
			j.comments.forEach(add);
			$('#more').hidden = next == null;
			$('#empty').hidden = items.length > 0;
			updateSelected();
			if (!more) say(items.length + ' ' + view + ' comment' + (items.length === 1 ? '' : 's') + (next ? ' (more below)' : '') + '.');
		}, failed);
	}
	function add(c) {
		var id = c.id;
		var box = el('input', { type: 'checkbox', id: 'sel-' + id, 'aria-label': 'Select comment ' + id + ' by ' + c.author });
		var body = el('div', { className: 'html' });
		body.innerHTML = c.html; /* rendered by the daemon from a safe Markdown subset */
		var meta = [
			'#' + id, manySites && !site ? 'site ' + c.site : null, when(c.created), c.status,
			c.score == null ? null : 'score ' + c.score.toFixed(3) + (c.verdict ? ' (' + c.verdict + ')' : ''),
			c.parent ? 'reply to #' + c.parent : null,
			c.email_hash ? 'e-mail hash ' + c.email_hash : null,
			c.ip_prefix ? 'network ' + c.ip_prefix : null
		].filter(Boolean).join(' · ');
		var who = el('h3', { id: 'who-' + id, className: 'who' }, [
			c.author || '(no name)', c.url ? el('span', { className: 'muted', text: ' ' + c.url }) : null,
			el('span', { className: 'muted', text: ' on ' }), el('code', { text: c.thread })
		]);
		var why = null;
		if (c.tokens && c.tokens.length) {
			why = el('div', { className: 'why' }, [el('span', { className: 'muted', text: 'Deciding tokens: ' })]);
			var ul = el('ul', { className: 'tokens' });
			c.tokens.forEach(function (t) {
				ul.appendChild(el('li', { className: t.p >= 0.5 ? 'spamish' : 'hamish', title: 'spam ' + t.spam + ', ham ' + t.ham },
					[el('code', { text: t.token }), ' ' + Number(t.p).toFixed(2)]));
			});
			why.appendChild(ul);
		}
		var acts = el('div', { className: 'actions' });
		[['approve', 'Approve', 'a'], ['spam', 'Spam', 's'], ['delete', 'Delete', 'd'], ['edit', 'Edit', 'e']].forEach(function (a) {
			if (STATUS_AFTER[a[0]] === c.status) return;
			acts.appendChild(el('button', { type: 'button', 'data-act': a[0], 'aria-keyshortcuts': a[2], className: a[0] === 'delete' ? 'danger' : a[0] === 'approve' ? 'primary' : '', 'aria-describedby': 'who-' + id, text: a[1] }));
		});
		var li = el('li', { className: 'item', tabindex: '-1', 'data-id': id, 'aria-labelledby': 'who-' + id }, [
			el('div', { className: 'sel' }, [box]),
			el('div', { className: 'content' }, [who, el('p', { className: 'meta muted', text: meta }), body, why, acts])
		]);
		var it = { data: c, li: li, box: box };
		items.push(it);
		$('#list').appendChild(li);
		box.addEventListener('change', updateSelected);
		li.addEventListener('focusin', function () { setCurrent(items.indexOf(it), false); });
		acts.addEventListener('click', function (e) {
			var act = e.target.getAttribute('data-act');
			if (act === 'edit') edit(it);
			else if (act) act1(it, act);
		});
	}
	function setCurrent(i, focus) {
		if (i < 0 || i >= items.length) return;
		if (items[current]) items[current].li.classList.remove('current');
		current = i;
		items[i].li.classList.add('current');
		if (focus) items[i].li.focus();
	}
	function drop(it) {
		var i = items.indexOf(it);
		if (i < 0) return;
		it.li.remove();
		items.splice(i, 1);
		if (current >= items.length) current = items.length - 1;
		$('#empty').hidden = items.length > 0;
		updateSelected();
	}
	function after(its, act) {
		var focusAt = items.indexOf(its[0]);
		its.forEach(function (it) {
			if (STATUS_AFTER[act] !== view) drop(it);
			else it.box.checked = false;
		});
		updateSelected();
		stats();
		if (items.length) setCurrent(Math.min(Math.max(focusAt, 0), items.length - 1), true);
		else $('#queue-h').focus();
	}
	function act1(it, act) {
		api('POST', 'comments/' + it.data.id + '/' + act).then(function () {
			say('Comment #' + it.data.id + ' ' + DONE[act] + '.');
			after([it], act);
		}, failed);
	}
	function selected() {
		return items.filter(function (it) { return it.box.checked; });
	}
	function bulk(act) {
		var its = selected();
		if (!its.length) return say('Select comments first (x or the checkboxes).', true);
		if (act === 'delete' && !confirm('Delete ' + its.length + ' comments?')) return;
		api('POST', 'comments/bulk', { action: act, ids: its.map(function (it) { return it.data.id; }) }).then(function () {
			say(its.length + ' comment' + (its.length === 1 ? '' : 's') + ' ' + DONE[act] + '.');
			after(its, act);
		}, failed);
	}
	function updateSelected() {
		var n = selected().length;
		$('#selected').textContent = n + ' selected';
		$('#all').checked = n > 0 && n === items.length;
		$('#all').indeterminate = n > 0 && n < items.length;
	}
	function edit(it) {
		if (it.li.querySelector('form')) return;
		var c = it.data, id = c.id;
		var author = el('input', { id: 'ea-' + id, value: c.author, required: true });
		var text = el('textarea', { id: 'et-' + id, rows: '6', required: true });
		text.value = c.text;
		var cancel = el('button', { type: 'button', text: 'Cancel' });
		var f = el('form', { className: 'edit', 'aria-label': 'Edit comment ' + id }, [
			el('label', { for: 'ea-' + id, text: 'Name' }), author,
			el('label', { for: 'et-' + id, text: 'Text (Markdown)' }), text,
			el('div', { className: 'actions' }, [el('button', { type: 'submit', className: 'primary', text: 'Save' }), cancel])
		]);
		it.li.querySelector('.content').appendChild(f);
		text.focus();
		cancel.addEventListener('click', function () { f.remove(); it.li.focus(); });
		f.addEventListener('submit', function (e) {
			e.preventDefault();
			api('PATCH', 'comments/' + id, { author: author.value, text: text.value }).then(function (j) {
				var pos = items.indexOf(it);
				add(Object.assign({}, c, j)); /* appended; move it into place */
				var fresh = items.pop();
				items[pos] = fresh;
				it.li.replaceWith(fresh.li);
				setCurrent(pos, true);
				say('Comment #' + id + ' saved.');
			}, failed);
		});
	}

	/* ---- controls ---- */
	function show(status) {
		view = status;
		d.querySelectorAll('#tabs button').forEach(function (b) {
			b.setAttribute('aria-pressed', String(b.getAttribute('data-status') === status));
		});
		$('#all').checked = false;
		return load(false);
	}
	$('#tabs').addEventListener('click', function (e) {
		var b = e.target.closest('button');
		if (b) show(b.getAttribute('data-status'));
	});
	$('#search').addEventListener('submit', function (e) {
		e.preventDefault();
		load(false);
	});
	$('#more').addEventListener('click', function () { load(true); });
	$('#all').addEventListener('change', function (e) {
		items.forEach(function (it) { it.box.checked = e.target.checked; });
		updateSelected();
	});
	d.querySelectorAll('[data-bulk]').forEach(function (b) {
		b.addEventListener('click', function () { bulk(b.getAttribute('data-bulk')); });
	});
	d.addEventListener('keydown', function (e) {
		var tg = e.target;
		if ($('#app').hidden || e.ctrlKey || e.metaKey || e.altKey) return;
		if ((tg.tagName === 'INPUT' && tg.type !== 'checkbox') || tg.tagName === 'TEXTAREA' || tg.tagName === 'SELECT') {
			if (e.key === 'Escape') tg.blur();
			return;
		}
		var it = items[current];
		var k = e.key.toLowerCase();
		if (k === 'j') setCurrent(current + 1, true);
		else if (k === 'k') setCurrent(Math.max(current - 1, 0), true);
		else if (k === 'x' && it) { it.box.checked = !it.box.checked; updateSelected(); }
		else if ((k === 'a' || k === 's' || k === 'd') && (it || selected().length)) {
			var act = { a: 'approve', s: 'spam', d: 'delete' }[k];
			if (selected().length) bulk(act);
			else if (STATUS_AFTER[act] !== it.data.status) act1(it, act);
		} else if (k === 'e' && it) edit(it);
		else if (k === '/') $('#q').focus();
		else if (k >= '1' && k <= '4') show(['pending', 'spam', 'published', 'deleted'][k - 1]);
		else return;
		e.preventDefault();
	});

	if (token) api('GET', 'stats').then(start, function () { signOut(' '); });
	else $('#token').focus();
})();
