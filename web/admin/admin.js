/* commentd moderation page: sign in with an admin token, work the pending
 * and spam queues with the reasons each comment got (in words), the article
 * it is on and the comment it answers; approve, mark spam, delete, edit or
 * reply as the site's author with a click or a key; act on many at once;
 * search; a chart of the last days.  In Dutch, English and German (all
 * strings in one table, as the widget does), chosen from the browser and
 * switchable.  A token for several sites gets a site switcher (every
 * request then carries ?site=).  Talks only to /api/v1/admin/ on its own
 * origin; the token and the chosen site stay in sessionStorage (this tab),
 * the language in localStorage. */
(function () {
	'use strict';
	var d = document;
	var $ = function (sel) { return d.querySelector(sel); };

	/* One table per language; {n}, {name}, ... are filled in. */
	var STRINGS = {
		nl: {
			pageTitle: 'Moderatie – commentd', heading: 'Moderatie', language: 'Taal', signOut: 'Afmelden',
			signIn: 'Aanmelden', tokenLabel: 'Admin-token', tokenHelp: 'Maak er een op de server met',
			tokenKept: 'Deze pagina bewaart het alleen voor dit tabblad (sessionStorage).',
			checking: 'Controleren…', badToken: 'Dat token is niet geldig.', signInFailed: 'Aanmelden mislukt: ',
			signedOut: 'Afgemeld.', expired: 'Je token wordt niet meer geaccepteerd; meld je opnieuw aan.',
			me: 'Aangemeld als {name}', meReplies: 'Aangemeld als {name}; je antwoorden verschijnen als {display}',
			comments: 'Reacties', show: 'Toon', tabPending: 'Wachtend', tabSpam: 'Spam',
			tabPublished: 'Gepubliceerd', tabDeleted: 'Verwijderd', searchText: 'Zoek tekst',
			thread: 'Draad', search: 'Zoek', selectedGroup: 'Geselecteerde reacties', selectAll: 'Alles selecteren',
			selected: '{n} geselecteerd', approveSelected: 'Selectie goedkeuren', spamSelected: 'Selectie is spam',
			deleteSelected: 'Selectie verwijderen', empty: 'Niets te zien.', more: 'Meer laden',
			listed: {
				pending: ['{n} wachtende reactie', '{n} wachtende reacties'],
				spam: ['{n} reactie in spam', '{n} reacties in spam'],
				published: ['{n} gepubliceerde reactie', '{n} gepubliceerde reacties'],
				deleted: ['{n} verwijderde reactie', '{n} verwijderde reacties']
			},
			moreBelow: ' (meer hieronder)',
			done: { approve: 'goedgekeurd', spam: 'als spam gemarkeerd', delete: 'verwijderd' },
			doneOne: 'Reactie #{id} {done}.', doneMany: ['{n} reactie {done}.', '{n} reacties {done}.'],
			selectFirst: 'Selecteer eerst reacties (x of de vakjes).', confirmDelete: '{n} reacties verwijderen?',
			failed: 'Mislukt: ', saved: 'Reactie #{id} opgeslagen.', replied: 'Antwoord op #{id} geplaatst.',
			approvedReplied: 'Reactie #{id} goedgekeurd en beantwoord.',
			approve: 'Goedkeuren', spam: 'Spam', del: 'Verwijderen', edit: 'Bewerken', reply: 'Beantwoorden',
			approveReply: 'Goedkeuren en beantwoorden', save: 'Opslaan', cancel: 'Annuleren', name: 'Naam',
			textMd: 'Tekst (Markdown)', replyAs: 'Antwoord als {name} (Markdown)', publishReply: 'Antwoord plaatsen',
			approvePublish: 'Goedkeuren en antwoord plaatsen', selectComment: 'Selecteer reactie {id} van {name}',
			editComment: 'Reactie {id} bewerken', replyTo: 'Antwoord op reactie {id}', noName: '(geen naam)',
			on: ' op ', inReplyTo: 'Antwoord op {name}:', parentDeleted: 'Antwoord op een verwijderde reactie.',
			authorBadge: 'Auteur', siteOf: 'site {s}', site: 'Site', allSites: 'Al mijn sites', replyTo2: 'antwoord op #{id}', emailHash: 'e-mailhash {h}', network: 'netwerk {p}',
			score: 'score {s}', why: 'Waarom: ', tokens: 'Beslissende tokens: ', notShown: 'niet getoond',
			spamWard: 'wijst op spam', hamWard: 'wijst op in orde', starter: 'startmodel',
			status: { pending: 'wachtend', spam: 'spam', published: 'gepubliceerd', deleted: 'verwijderd' },
			verdict: { ham: 'in orde', unsure: 'twijfel', spam: 'spam', discard: 'overduidelijk spam' },
			reasons: {
				honeypot: 'Het verborgen lokveld voor robots is ingevuld.',
				allowlist: 'Het e-mailadres staat op de lijst van vertrouwde afzenders.',
				blocklist_word: 'Bevat een geblokkeerd woord.',
				blocklist_domain: 'Linkt naar of komt van een geblokkeerd domein.',
				blocklist_network: 'Verstuurd vanaf een geblokkeerd netwerk.',
				classifier: 'Het spamfilter gaf score {score} ({verdict}).',
				cold_start: 'Het filter leert nog; daarom houdt het de reactie vast in plaats van haar als spam te markeren.',
				links: 'Bevat {count} links; bij meer dan {limit} kijkt een moderator mee.',
				moderation_all: 'Elke reactie wacht op een moderator (moderation = all).',
				first_comment: 'Eerste reactie van dit e-mailadres (moderation = first).',
				edited: 'Door de schrijver bewerkt en opnieuw gecontroleerd.',
				imported: 'Geïmporteerd uit een ander systeem.',
				moderator: 'Door een moderator op deze pagina geschreven.',
				too_fast: 'Verstuurd {seconds} s nadat de pagina laadde (minder dan {limit} s): mensen lezen en typen eerst.',
				impersonation: 'Gebruikt de naam van een moderator ({name}).',
				other: 'Reden: {code}'
			},
			kinds: {
				word: 'woord', word_pair: 'woordpaar', fragment: 'woorddeel', word_start: 'woordbegin',
				word_end: 'woordeinde', long_word: 'heel lang woord', number_shape: 'getal', punctuation: 'leestekens',
				link: 'link', link_domain: 'linkdomein', link_count: 'aantal links', length: 'lengte',
				capitals: 'hoofdletters', obfuscation: 'verhulde tekst', name: 'naam', website: 'website',
				website_domain: 'websitedomein', browser: 'browser', referrer: 'kwam van', render_time: 'tijd tot versturen',
				duplicate: 'eerder geplaatst', email_domain: 'e-maildomein', network: 'netwerk', signal: 'signaal'
			},
			stats: 'Cijfers', statRows: ['Gepubliceerd', 'Wachtend', 'Spam', 'Verwijderd', 'Weggegooid',
				'Geleerd spam / in orde', 'Tokens van het filter', 'Filter leert nog',
				'Drempels (vastgehouden ertussen)', 'Beslissingen (30 dagen)', 'Terugdraaiingen (30 dagen)'],
			yesLearning: 'ja (leert nog)', no: 'nee',
			cutoffsHow: { learned: 'geleerd van deze site', configured: 'ingesteld', off: 'ingesteld, leren uit' },
			chartHeading: 'Reacties per dag', period: 'Periode', days7: '7 dagen', days30: '30 dagen', days90: '90 dagen',
			asTable: 'Toon als tabel',
			chartTitle: 'Reacties per dag, laatste {n} dagen',
			chartDesc: 'Gestapelde staven per dag: gepubliceerd, wachtend, spam en weggegooid. Lijn: hoe vaak moderators het met het filter eens waren. In totaal {total} reacties, {decisions} beslissingen van moderators, {reversals} keer teruggedraaid.',
			series: { published: 'Gepubliceerd', held: 'Wachtend', spam: 'Spam', discarded: 'Weggegooid' },
			agreementLine: 'Eens met moderators',
			agreement: 'Het filter was het in deze periode {pct} van de keren eens met de moderators ({decisions} beslissingen, {reversals} teruggedraaid).',
			noAgreement: 'Nog geen beslissingen van moderators in deze periode.',
			cols: ['Datum', 'Gepubliceerd', 'Wachtend', 'Spam', 'Weggegooid', 'Beslissingen', 'Teruggedraaid', 'Eens'],
			keyboard: 'Toetsenbord', keyJK: 'volgende / vorige reactie', keyX: 'selecteer de reactie',
			keyASD: 'goedkeuren, spam, verwijderen (de geselecteerde als die er zijn, anders de huidige)',
			keyR: 'beantwoorden (en goedkeuren) als de auteur van de site', keyE: 'bewerk de huidige reactie',
			keySlash: 'zoeken', key14: 'wachtend, spam, gepubliceerd, verwijderd'
		},
		en: {
			pageTitle: 'commentd moderation', heading: 'commentd moderation', language: 'Language', signOut: 'Sign out',
			signIn: 'Sign in', tokenLabel: 'Admin token', tokenHelp: 'Create one on the server with',
			tokenKept: 'This page keeps it only for this browser tab (sessionStorage).',
			checking: 'Checking…', badToken: 'That token is not valid.', signInFailed: 'Sign-in failed: ',
			signedOut: 'Signed out.', expired: 'Your token is no longer accepted; sign in again.',
			me: 'Signed in as {name}', meReplies: 'Signed in as {name}; your replies appear as {display}',
			comments: 'Comments', show: 'Show', tabPending: 'Pending', tabSpam: 'Spam',
			tabPublished: 'Published', tabDeleted: 'Deleted', searchText: 'Search text',
			thread: 'Thread', search: 'Search', selectedGroup: 'Selected comments', selectAll: 'Select all',
			selected: '{n} selected', approveSelected: 'Approve selected', spamSelected: 'Spam selected',
			deleteSelected: 'Delete selected', empty: 'Nothing here.', more: 'Load more',
			listed: {
				pending: ['{n} pending comment', '{n} pending comments'],
				spam: ['{n} spam comment', '{n} spam comments'],
				published: ['{n} published comment', '{n} published comments'],
				deleted: ['{n} deleted comment', '{n} deleted comments']
			},
			moreBelow: ' (more below)',
			done: { approve: 'approved', spam: 'marked as spam', delete: 'deleted' },
			doneOne: 'Comment #{id} {done}.', doneMany: ['{n} comment {done}.', '{n} comments {done}.'],
			selectFirst: 'Select comments first (x or the checkboxes).', confirmDelete: 'Delete {n} comments?',
			failed: 'Failed: ', saved: 'Comment #{id} saved.', replied: 'Reply to #{id} published.',
			approvedReplied: 'Comment #{id} approved and answered.',
			approve: 'Approve', spam: 'Spam', del: 'Delete', edit: 'Edit', reply: 'Reply',
			approveReply: 'Approve and reply', save: 'Save', cancel: 'Cancel', name: 'Name',
			textMd: 'Text (Markdown)', replyAs: 'Reply as {name} (Markdown)', publishReply: 'Publish reply',
			approvePublish: 'Approve and publish reply', selectComment: 'Select comment {id} by {name}',
			editComment: 'Edit comment {id}', replyTo: 'Reply to comment {id}', noName: '(no name)',
			on: ' on ', inReplyTo: 'In reply to {name}:', parentDeleted: 'In reply to a deleted comment.',
			authorBadge: 'Author', siteOf: 'site {s}', site: 'Site', allSites: 'All my sites', replyTo2: 'reply to #{id}', emailHash: 'e-mail hash {h}', network: 'network {p}',
			score: 'score {s}', why: 'Why: ', tokens: 'Deciding tokens: ', notShown: 'not shown',
			spamWard: 'points to spam', hamWard: 'points to ham', starter: 'starter model',
			status: { pending: 'pending', spam: 'spam', published: 'published', deleted: 'deleted' },
			verdict: { ham: 'looks fine', unsure: 'unsure', spam: 'spam', discard: 'blatant spam' },
			reasons: {
				honeypot: 'The hidden bot trap field was filled in.',
				allowlist: 'The e-mail address is on the allowlist.',
				blocklist_word: 'Contains a blocklisted word.',
				blocklist_domain: 'Links to, or comes from, a blocklisted domain.',
				blocklist_network: 'Sent from a blocklisted network.',
				classifier: 'The spam filter scored it {score} ({verdict}).',
				cold_start: 'The filter is still learning, so it holds the comment instead of filing it as spam.',
				links: 'Has {count} links; more than {limit} need a moderator.',
				moderation_all: 'Every comment waits for a moderator (moderation = all).',
				first_comment: 'The first comment from this e-mail address (moderation = first).',
				edited: 'Edited by its author and checked again.',
				imported: 'Imported from another system.',
				moderator: 'Written by a moderator on this page.',
				too_fast: 'Sent {seconds} s after the page loaded (under {limit} s): people read and type first.',
				impersonation: 'Uses a moderator\'s name ({name}).',
				other: 'Reason: {code}'
			},
			kinds: {
				word: 'word', word_pair: 'word pair', fragment: 'word fragment', word_start: 'word start',
				word_end: 'word end', long_word: 'very long word', number_shape: 'number', punctuation: 'punctuation',
				link: 'link', link_domain: 'link domain', link_count: 'number of links', length: 'length',
				capitals: 'capitals', obfuscation: 'disguised text', name: 'name', website: 'website',
				website_domain: 'website domain', browser: 'browser', referrer: 'came from', render_time: 'time to send',
				duplicate: 'posted before', email_domain: 'e-mail domain', network: 'network', signal: 'signal'
			},
			stats: 'Stats', statRows: ['Published', 'Pending', 'Spam', 'Deleted', 'Discarded', 'Learned spam / ham',
				'Classifier tokens', 'Cold start', 'Cut-offs (held between)', 'Decisions (30 days)',
				'Reversals (30 days)'],
			yesLearning: 'yes (learning)', no: 'no',
			cutoffsHow: { learned: 'learned from this site', configured: 'configured', off: 'configured, learning off' },
			chartHeading: 'Comments per day', period: 'Period', days7: '7 days', days30: '30 days', days90: '90 days',
			asTable: 'Show as a table',
			chartTitle: 'Comments per day, last {n} days',
			chartDesc: 'Stacked bars per day: published, held, spam and discarded. Line: how often moderators agreed with the filter. In all {total} comments, {decisions} moderator decisions, {reversals} reversed.',
			series: { published: 'Published', held: 'Held', spam: 'Spam', discarded: 'Discarded' },
			agreementLine: 'Agreement with moderators',
			agreement: 'In this period the filter agreed with the moderators {pct} of the time ({decisions} decisions, {reversals} reversed).',
			noAgreement: 'No moderator decisions in this period yet.',
			cols: ['Date', 'Published', 'Held', 'Spam', 'Discarded', 'Decisions', 'Reversals', 'Agreement'],
			keyboard: 'Keyboard', keyJK: 'next / previous comment', keyX: 'select the comment',
			keyASD: 'approve, spam, delete (the selected ones if any, else the current one)',
			keyR: 'reply (and approve) as the site\'s author', keyE: 'edit the current comment',
			keySlash: 'search', key14: 'pending, spam, published, deleted'
		},
		de: {
			pageTitle: 'Moderation – commentd', heading: 'Moderation', language: 'Sprache', signOut: 'Abmelden',
			signIn: 'Anmelden', tokenLabel: 'Admin-Token', tokenHelp: 'Erzeuge eines auf dem Server mit',
			tokenKept: 'Diese Seite behält es nur für diesen Tab (sessionStorage).',
			checking: 'Wird geprüft…', badToken: 'Dieses Token ist nicht gültig.', signInFailed: 'Anmeldung fehlgeschlagen: ',
			signedOut: 'Abgemeldet.', expired: 'Dein Token wird nicht mehr angenommen; melde dich neu an.',
			me: 'Angemeldet als {name}', meReplies: 'Angemeldet als {name}; deine Antworten erscheinen als {display}',
			comments: 'Kommentare', show: 'Anzeigen', tabPending: 'Wartend', tabSpam: 'Spam',
			tabPublished: 'Veröffentlicht', tabDeleted: 'Gelöscht', searchText: 'Text suchen',
			thread: 'Thread', search: 'Suchen', selectedGroup: 'Ausgewählte Kommentare', selectAll: 'Alle auswählen',
			selected: '{n} ausgewählt', approveSelected: 'Auswahl freigeben', spamSelected: 'Auswahl ist Spam',
			deleteSelected: 'Auswahl löschen', empty: 'Nichts da.', more: 'Mehr laden',
			listed: {
				pending: ['{n} wartender Kommentar', '{n} wartende Kommentare'],
				spam: ['{n} Kommentar im Spam', '{n} Kommentare im Spam'],
				published: ['{n} veröffentlichter Kommentar', '{n} veröffentlichte Kommentare'],
				deleted: ['{n} gelöschter Kommentar', '{n} gelöschte Kommentare']
			},
			moreBelow: ' (weitere unten)',
			done: { approve: 'freigegeben', spam: 'als Spam markiert', delete: 'gelöscht' },
			doneOne: 'Kommentar #{id} {done}.', doneMany: ['{n} Kommentar {done}.', '{n} Kommentare {done}.'],
			selectFirst: 'Wähle zuerst Kommentare aus (x oder die Kästchen).', confirmDelete: '{n} Kommentare löschen?',
			failed: 'Fehlgeschlagen: ', saved: 'Kommentar #{id} gespeichert.', replied: 'Antwort auf #{id} veröffentlicht.',
			approvedReplied: 'Kommentar #{id} freigegeben und beantwortet.',
			approve: 'Freigeben', spam: 'Spam', del: 'Löschen', edit: 'Bearbeiten', reply: 'Antworten',
			approveReply: 'Freigeben und antworten', save: 'Speichern', cancel: 'Abbrechen', name: 'Name',
			textMd: 'Text (Markdown)', replyAs: 'Antwort als {name} (Markdown)', publishReply: 'Antwort veröffentlichen',
			approvePublish: 'Freigeben und Antwort veröffentlichen', selectComment: 'Kommentar {id} von {name} auswählen',
			editComment: 'Kommentar {id} bearbeiten', replyTo: 'Antwort auf Kommentar {id}', noName: '(kein Name)',
			on: ' zu ', inReplyTo: 'Antwort an {name}:', parentDeleted: 'Antwort auf einen gelöschten Kommentar.',
			authorBadge: 'Autor', siteOf: 'Site {s}', site: 'Site', allSites: 'Alle meine Sites', replyTo2: 'Antwort auf #{id}', emailHash: 'E-Mail-Hash {h}', network: 'Netz {p}',
			score: 'Wert {s}', why: 'Warum: ', tokens: 'Entscheidende Tokens: ', notShown: 'nicht angezeigt',
			spamWard: 'spricht für Spam', hamWard: 'spricht dagegen', starter: 'Startmodell',
			status: { pending: 'wartend', spam: 'Spam', published: 'veröffentlicht', deleted: 'gelöscht' },
			verdict: { ham: 'unauffällig', unsure: 'unsicher', spam: 'Spam', discard: 'eindeutig Spam' },
			reasons: {
				honeypot: 'Das versteckte Köderfeld für Bots wurde ausgefüllt.',
				allowlist: 'Die E-Mail-Adresse steht auf der Liste vertrauter Absender.',
				blocklist_word: 'Enthält ein gesperrtes Wort.',
				blocklist_domain: 'Verlinkt auf eine gesperrte Domain oder kommt von ihr.',
				blocklist_network: 'Aus einem gesperrten Netz gesendet.',
				classifier: 'Der Spamfilter gab den Wert {score} ({verdict}).',
				cold_start: 'Der Filter lernt noch und hält den Kommentar deshalb zurück, statt ihn als Spam abzulegen.',
				links: 'Enthält {count} Links; ab mehr als {limit} schaut ein Moderator nach.',
				moderation_all: 'Jeder Kommentar wartet auf einen Moderator (moderation = all).',
				first_comment: 'Erster Kommentar von dieser E-Mail-Adresse (moderation = first).',
				edited: 'Vom Verfasser bearbeitet und erneut geprüft.',
				imported: 'Aus einem anderen System importiert.',
				moderator: 'Von einem Moderator auf dieser Seite geschrieben.',
				too_fast: '{seconds} s nach dem Laden der Seite gesendet (weniger als {limit} s): Menschen lesen und tippen erst.',
				impersonation: 'Verwendet den Namen eines Moderators ({name}).',
				other: 'Grund: {code}'
			},
			kinds: {
				word: 'Wort', word_pair: 'Wortpaar', fragment: 'Wortteil', word_start: 'Wortanfang',
				word_end: 'Wortende', long_word: 'sehr langes Wort', number_shape: 'Zahl', punctuation: 'Satzzeichen',
				link: 'Link', link_domain: 'Link-Domain', link_count: 'Anzahl Links', length: 'Länge',
				capitals: 'Großbuchstaben', obfuscation: 'verschleierter Text', name: 'Name', website: 'Website',
				website_domain: 'Website-Domain', browser: 'Browser', referrer: 'kam von', render_time: 'Zeit bis zum Senden',
				duplicate: 'schon gepostet', email_domain: 'E-Mail-Domain', network: 'Netz', signal: 'Signal'
			},
			stats: 'Zahlen', statRows: ['Veröffentlicht', 'Wartend', 'Spam', 'Gelöscht', 'Verworfen',
				'Gelernt Spam / unauffällig', 'Tokens des Filters', 'Filter lernt noch',
				'Schwellen (zurückgehalten dazwischen)', 'Entscheidungen (30 Tage)', 'Umkehrungen (30 Tage)'],
			yesLearning: 'ja (lernt noch)', no: 'nein',
			cutoffsHow: { learned: 'von dieser Website gelernt', configured: 'eingestellt', off: 'eingestellt, Lernen aus' },
			chartHeading: 'Kommentare pro Tag', period: 'Zeitraum', days7: '7 Tage', days30: '30 Tage', days90: '90 Tage',
			asTable: 'Als Tabelle zeigen',
			chartTitle: 'Kommentare pro Tag, letzte {n} Tage',
			chartDesc: 'Gestapelte Balken pro Tag: veröffentlicht, wartend, Spam und verworfen. Linie: wie oft Moderatoren dem Filter zustimmten. Insgesamt {total} Kommentare, {decisions} Entscheidungen von Moderatoren, {reversals} umgekehrt.',
			series: { published: 'Veröffentlicht', held: 'Wartend', spam: 'Spam', discarded: 'Verworfen' },
			agreementLine: 'Übereinstimmung mit Moderatoren',
			agreement: 'In diesem Zeitraum stimmte der Filter zu {pct} mit den Moderatoren überein ({decisions} Entscheidungen, {reversals} umgekehrt).',
			noAgreement: 'In diesem Zeitraum noch keine Entscheidungen von Moderatoren.',
			cols: ['Datum', 'Veröffentlicht', 'Wartend', 'Spam', 'Verworfen', 'Entscheidungen', 'Umgekehrt', 'Übereinstimmung'],
			keyboard: 'Tastatur', keyJK: 'nächster / vorheriger Kommentar', keyX: 'Kommentar auswählen',
			keyASD: 'freigeben, Spam, löschen (die ausgewählten, sonst den aktuellen)',
			keyR: 'als Autor der Seite antworten (und freigeben)', keyE: 'den aktuellen Kommentar bearbeiten',
			keySlash: 'suchen', key14: 'wartend, Spam, veröffentlicht, gelöscht'
		}
	};
	var LANG_KEY = 'commentd-admin-lang';
	var API = new URL('../api/v1/admin/', location.href).href;
	var KEY = 'commentd-admin-token';
	var token = sessionStorage.getItem(KEY) || '';
	var SITE_KEY = 'commentd-admin-site';
	var site = sessionStorage.getItem(SITE_KEY) || ''; /* '' = every site of the token */
	var manySites = false;
	var lang = pickLang();
	var S = STRINGS[lang];
	var me = null; /* {name, display_name} */
	var view = 'pending';
	var next = null;
	var items = []; /* {data, li, box} in list order */
	var current = -1;
	var STATUS_AFTER = { approve: 'published', spam: 'spam', delete: 'deleted' };

	function pickLang() {
		var saved = null;
		try { saved = localStorage.getItem(LANG_KEY); } catch (e) { /* private mode */ }
		if (saved && STRINGS[saved]) return saved;
		var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
		for (var i = 0; i < wanted.length; i++) {
			var l = String(wanted[i]).toLowerCase().slice(0, 2);
			if (STRINGS[l]) return l;
		}
		return 'en';
	}
	function t(str, vars) {
		return String(str).replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
	}
	function plural(pair, n, vars) {
		vars = vars || {};
		vars.n = n.toLocaleString(lang);
		return t(pair[n === 1 ? 0 : 1], vars);
	}
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
		if (err.status === 401) return signOut(S.expired);
		say(S.failed + err.message, true);
	}
	function when(iso) {
		try {
			return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
		} catch (e) {
			return iso;
		}
	}
	function num(x, digits) {
		return Number(x).toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
	}

	/* ---- language ---- */
	function translate() {
		d.documentElement.lang = lang;
		d.title = S.pageTitle;
		d.querySelectorAll('[data-i18n]').forEach(function (n) { n.textContent = S[n.getAttribute('data-i18n')]; });
		d.querySelectorAll('[data-i18n-label]').forEach(function (n) {
			n.setAttribute('aria-label', S[n.getAttribute('data-i18n-label')]);
		});
		$('#lang').value = lang;
		showMe();
		updateSelected();
	}
	$('#lang').addEventListener('change', function (e) {
		lang = STRINGS[e.target.value] ? e.target.value : 'en';
		S = STRINGS[lang];
		try { localStorage.setItem(LANG_KEY, lang); } catch (err) { /* private mode */ }
		translate();
		if (!$('#app').hidden) load(false);
	});

	/* ---- sign in ---- */
	function showApp(on) {
		$('#signin').hidden = on;
		$('#app').hidden = !on;
		$('#signout').hidden = !on;
		$('#me').hidden = !on;
	}
	function showMe() {
		var p = $('#me');
		if (!me) { p.textContent = ''; return; }
		p.textContent = me.display_name ? t(S.meReplies, { name: me.name, display: me.display_name }) : t(S.me, { name: me.name });
	}
	function signOut(msg) {
		token = '';
		site = '';
		me = null;
		sessionStorage.removeItem(KEY);
		sessionStorage.removeItem(SITE_KEY);
		showApp(false);
		$('#signin-status').textContent = msg || S.signedOut;
		$('#token').focus();
	}
	$('#signin-form').addEventListener('submit', function (e) {
		e.preventDefault();
		token = $('#token').value.trim();
		$('#signin-status').textContent = S.checking;
		api('GET', 'me').then(function (who) {
			sessionStorage.setItem(KEY, token);
			$('#token').value = '';
			$('#signin-status').textContent = '';
			start(who);
		}, function (err) {
			token = '';
			$('#signin-status').textContent = err.status === 401 ? S.badToken : S.signInFailed + err.message;
			$('#token').focus();
		});
	});
	$('#signout').addEventListener('click', function () { signOut(); });

	function start(who) {
		me = who;
		showMe();
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

	/* ---- stats and the chart ---- */
	/* The cut-offs in force: a score between them is held for a moderator. */
	function cutoffs(cl) {
		if (typeof cl.ham_cutoff !== 'number' || typeof cl.spam_cutoff !== 'number') return undefined;
		var f = function (x) { return x.toLocaleString(lang, { maximumFractionDigits: 3 }); };
		return f(cl.ham_cutoff) + ' – ' + f(cl.spam_cutoff) + ' (' + (S.cutoffsHow[cl.cutoffs] || cl.cutoffs) + ')';
	}
	function stats(st) {
		if (!st) return api('GET', 'stats?days=' + $('#days').value).then(stats, failed);
		var c = st.comments || {}, cl = st.classifier || {};
		Object.keys(c).forEach(function (k) {
			var n = d.querySelector('[data-count="' + k + '"]');
			if (n) n.textContent = '(' + c[k].toLocaleString(lang) + ')';
		});
		var values = [c.published, c.pending, c.spam, c.deleted, st.discarded,
			cl.learned_spam + ' / ' + cl.learned_ham, cl.tokens, cl.cold_start ? S.yesLearning : S.no,
			cutoffs(cl), st.decisions_30d, st.reversals_30d];
		var dl = $('#stats');
		dl.textContent = '';
		S.statRows.forEach(function (label, i) {
			dl.appendChild(el('dt', { text: label }));
			dl.appendChild(el('dd', { text: values[i] === undefined ? '–' : String(values[i]) }));
		});
		chart(st.series || [], st);
	}
	$('#days').addEventListener('change', function () { stats(); });

	var NS = 'http://www.w3.org/2000/svg';
	function svg(tag, attrs, text) {
		var n = d.createElementNS(NS, tag);
		for (var k in attrs) n.setAttribute(k, attrs[k]);
		if (text !== undefined) n.textContent = text;
		return n;
	}
	var SERIES = ['published', 'held', 'spam', 'discarded'];
	/* Stacked bars per day and the agreement line, drawn as inline SVG (no
	 * library), with a title and description for assistive technology and
	 * the same numbers as a table. */
	function chart(series, st) {
		var W = 320, H = 150, L = 28, R = 30, T = 8, B = 22;
		var pw = W - L - R, ph = H - T - B, n = series.length || 1, bw = pw / n;
		var max = 1, total = 0, decisions = 0, reversals = 0;
		series.forEach(function (day) {
			var sum = SERIES.reduce(function (s, k) { return s + day[k]; }, 0);
			max = Math.max(max, sum);
			total += sum;
			decisions += day.decisions;
			reversals += day.reversals;
		});
		var box = $('#chart');
		box.textContent = '';
		var g = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': 'chart-title chart-desc', class: 'chart-svg', focusable: 'false' });
		g.appendChild(svg('title', { id: 'chart-title' }, t(S.chartTitle, { n: series.length })));
		g.appendChild(svg('desc', { id: 'chart-desc' }, t(S.chartDesc, { total: total, decisions: decisions, reversals: reversals })));
		[0, 0.5, 1].forEach(function (f) {
			var y = T + ph - f * ph;
			g.appendChild(svg('line', { x1: L, x2: L + pw, y1: y, y2: y, class: 'grid' }));
			g.appendChild(svg('text', { x: L - 3, y: y + 3, class: 'axis', 'text-anchor': 'end' }, String(Math.round(f * max))));
			g.appendChild(svg('text', { x: L + pw + 3, y: y + 3, class: 'axis' }, Math.round(f * 100) + '%'));
		});
		var bars = svg('g', { class: 'bars' });
		series.forEach(function (day, i) {
			var y = T + ph;
			SERIES.forEach(function (k) {
				if (!day[k]) return;
				var h = day[k] / max * ph;
				y -= h;
				bars.appendChild(svg('rect', { x: (L + i * bw + bw * 0.12).toFixed(2), y: y.toFixed(2), width: (bw * 0.76).toFixed(2), height: h.toFixed(2), class: 'c-' + k }));
			});
		});
		g.appendChild(bars);
		var path = '', pen = false;
		series.forEach(function (day, i) {
			if (day.agreement == null) { pen = false; return; }
			var x = L + i * bw + bw / 2, y = T + ph - day.agreement * ph;
			path += (pen ? ' L' : ' M') + x.toFixed(2) + ' ' + y.toFixed(2);
			pen = true;
			g.appendChild(svg('circle', { cx: x.toFixed(2), cy: y.toFixed(2), r: 2, class: 'agree-dot' }));
		});
		if (path) g.appendChild(svg('path', { d: path.trim(), class: 'agree' }));
		if (series.length) {
			g.appendChild(svg('text', { x: L, y: H - 6, class: 'axis' }, shortDate(series[0].date)));
			g.appendChild(svg('text', { x: L + pw, y: H - 6, class: 'axis', 'text-anchor': 'end' }, shortDate(series[series.length - 1].date)));
		}
		box.appendChild(g);
		var legend = $('#legend');
		legend.textContent = '';
		SERIES.forEach(function (k) {
			legend.appendChild(el('li', null, [el('span', { className: 'swatch c-' + k, 'aria-hidden': 'true' }), S.series[k]]));
		});
		legend.appendChild(el('li', null, [el('span', { className: 'swatch line', 'aria-hidden': 'true' }), S.agreementLine]));
		$('#agreement').textContent = st.agreement == null ? S.noAgreement
			: t(S.agreement, { pct: num(st.agreement * 100, 0) + '%', decisions: decisions, reversals: reversals });
		table(series);
	}
	function shortDate(iso) {
		try {
			return new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(iso + 'T00:00:00Z'));
		} catch (e) {
			return iso;
		}
	}
	function table(series) {
		var tb = $('#chart-table');
		tb.textContent = '';
		tb.appendChild(el('caption', { id: 'chart-caption', text: t(S.chartTitle, { n: series.length }) }));
		var head = el('tr');
		S.cols.forEach(function (c) { head.appendChild(el('th', { scope: 'col', text: c })); });
		tb.appendChild(el('thead', null, [head]));
		var body = el('tbody');
		series.slice().reverse().forEach(function (day) {
			var tr = el('tr', null, [el('th', { scope: 'row', text: shortDate(day.date) })]);
			SERIES.concat(['decisions', 'reversals']).forEach(function (k) { tr.appendChild(el('td', { text: String(day[k]) })); });
			tr.appendChild(el('td', { text: day.agreement == null ? '–' : num(day.agreement * 100, 0) + '%' }));
			body.appendChild(tr);
		});
		tb.appendChild(body);
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
			if (!more) say(plural(S.listed[view], items.length) + (next ? S.moreBelow : '') + '.');
		}, failed);
	}
	/* A reason as a sentence in the page's language. */
	function reasonText(r) {
		var s = S.reasons[r.code];
		if (!s) return t(S.reasons.other, { code: r.code });
		return t(s, {
			score: r.score == null ? '–' : num(r.score, 3), verdict: S.verdict[r.verdict] || r.verdict || '',
			count: r.count, limit: r.limit, seconds: r.seconds, name: r.name
		});
	}
	/* The deciding tokens: their kind and, where privacy allows, their text. */
	function tokenList(tokens) {
		var ul = el('ul', { className: 'tokens' });
		tokens.forEach(function (tk) {
			var spamish = tk.spam != null ? tk.spam : tk.p >= 0.5;
			var kind = S.kinds[tk.kind] || tk.kind || S.kinds.word;
			var text = tk.kind ? tk.text : tk.token;
			ul.appendChild(el('li', { className: spamish ? 'spamish' : 'hamish' }, [
				el('span', { className: 'kind', text: kind + ' ' }),
				text != null ? el('code', { text: text }) : el('em', { text: S.notShown }),
				el('span', { className: 'p', text: ' ' + (spamish ? '▲' : '▼') + ' ' + num(tk.p, 2) }),
				tk.model === 'starter' ? el('span', { className: 'kind', text: ' (' + S.starter + ')' }) : null,
				el('span', { className: 'visually-hidden', text: ' (' + (spamish ? S.spamWard : S.hamWard) + ')' })
			]));
		});
		return ul;
	}
	function why(c) {
		var box = el('div', { className: 'why' });
		var reasons = c.reasons || [];
		if (reasons.length) {
			box.appendChild(el('span', { className: 'muted', text: S.why }));
			var ul = el('ul', { className: 'reasons' });
			reasons.forEach(function (r) { ul.appendChild(el('li', { 'data-code': r.code, text: reasonText(r) })); });
			box.appendChild(ul);
		}
		var cl = reasons.filter(function (r) { return r.code === 'classifier' && r.tokens && r.tokens.length; })[0];
		var tokens = cl ? cl.tokens : c.tokens || [];
		if (tokens.length) box.appendChild(el('p', { className: 'deciding' }, [el('span', { className: 'muted', text: S.tokens }), tokenList(tokens)]));
		return box.firstChild ? box : null;
	}
	function whoLine(c) {
		var id = c.id, page;
		if (c.page_title && c.page_url && /^https?:\/\//.test(c.page_url)) page = el('a', { href: c.page_url, text: c.page_title });
		else if (c.page_title) page = el('span', { text: c.page_title });
		else page = el('code', { text: c.thread });
		return el('h3', { id: 'who-' + id, className: 'who' }, [
			c.author || S.noName,
			c.author_badge ? el('span', { className: 'author-badge', text: ' ' + S.authorBadge }) : null,
			c.url ? el('span', { className: 'muted', text: ' ' + c.url }) : null,
			el('span', { className: 'muted', text: S.on }), page
		]);
	}
	function parentLine(c) {
		var x = c.parent_excerpt;
		if (!x) return null;
		if (x.deleted) return el('p', { className: 'parent muted', text: S.parentDeleted });
		return el('blockquote', { className: 'parent' }, [
			el('p', null, [el('span', { className: 'muted', text: t(S.inReplyTo, { name: x.author || S.noName }) + ' ' }), x.text])
		]);
	}
	function canReply() {
		return !!(me && me.display_name);
	}
	function actions(c) {
		var acts = el('div', { className: 'actions' });
		var list = [['approve', S.approve, 'a'], ['spam', S.spam, 's'], ['delete', S.del, 'd']];
		if (canReply() && c.status !== 'deleted' && c.status !== 'published') list.splice(1, 0, ['approve-reply', S.approveReply, 'r']);
		if (canReply() && c.status === 'published') list.push(['reply', S.reply, 'r']);
		list.push(['edit', S.edit, 'e']);
		list.forEach(function (a) {
			if (STATUS_AFTER[a[0]] === c.status) return;
			acts.appendChild(el('button', {
				type: 'button', 'data-act': a[0], 'aria-keyshortcuts': a[2], 'aria-describedby': 'who-' + c.id, text: a[1],
				className: a[0] === 'delete' ? 'danger' : a[0] === 'approve' ? 'primary' : ''
			}));
		});
		return acts;
	}
	function add(c) {
		var it = build(c);
		items.push(it);
		$('#list').appendChild(it.li);
	}
	function build(c) {
		var id = c.id;
		var box = el('input', { type: 'checkbox', id: 'sel-' + id, 'aria-label': t(S.selectComment, { id: id, name: c.author || S.noName }) });
		var body = el('div', { className: 'html' });
		body.innerHTML = c.html; /* rendered by the daemon from a safe Markdown subset */
		var meta = [
			'#' + id, manySites && !site ? t(S.siteOf, { s: c.site }) : null, when(c.created), S.status[c.status] || c.status,
			c.score == null ? null : t(S.score, { s: num(c.score, 3) }) + (c.verdict ? ' (' + (S.verdict[c.verdict] || c.verdict) + ')' : ''),
			c.parent ? t(S.replyTo2, { id: c.parent }) : null,
			c.email_hash ? t(S.emailHash, { h: c.email_hash }) : null,
			c.ip_prefix ? t(S.network, { p: c.ip_prefix }) : null
		].filter(Boolean).join(' · ');
		var acts = actions(c);
		var li = el('li', { className: 'item', tabindex: '-1', 'data-id': id, 'aria-labelledby': 'who-' + id }, [
			el('label', { className: 'sel', for: 'sel-' + id }, [box]),
			el('div', { className: 'content' }, [whoLine(c), el('p', { className: 'meta muted', text: meta }), parentLine(c), body, why(c), acts])
		]);
		var it = { data: c, li: li, box: box };
		box.addEventListener('change', updateSelected);
		li.addEventListener('focusin', function () { setCurrent(items.indexOf(it), false); });
		acts.addEventListener('click', function (e) {
			var act = e.target.getAttribute('data-act');
			if (act === 'edit') edit(it);
			else if (act === 'reply' || act === 'approve-reply') reply(it);
			else if (act) act1(it, act);
		});
		return it;
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
			say(t(S.doneOne, { id: it.data.id, done: S.done[act] }));
			after([it], act);
		}, failed);
	}
	function selected() {
		return items.filter(function (it) { return it.box.checked; });
	}
	function bulk(act) {
		var its = selected();
		if (!its.length) return say(S.selectFirst, true);
		if (act === 'delete' && !confirm(t(S.confirmDelete, { n: its.length }))) return;
		api('POST', 'comments/bulk', { action: act, ids: its.map(function (it) { return it.data.id; }) }).then(function () {
			say(plural(S.doneMany, its.length, { done: S.done[act] }));
			after(its, act);
		}, failed);
	}
	function updateSelected() {
		var n = selected().length;
		$('#selected').textContent = t(S.selected, { n: n });
		$('#all').checked = n > 0 && n === items.length;
		$('#all').indeterminate = n > 0 && n < items.length;
	}
	/* Replaces an item with a fresh one built from data, in place. */
	function replace(it, data) {
		var pos = items.indexOf(it), fresh = build(data);
		items[pos] = fresh;
		it.li.replaceWith(fresh.li);
		setCurrent(pos, true);
	}
	function openForm(it, f, focus) {
		var old = it.li.querySelector('form');
		if (old) old.remove();
		it.li.querySelector('.content').appendChild(f);
		focus.focus();
		f.querySelector('[data-cancel]').addEventListener('click', function () { f.remove(); it.li.focus(); });
	}
	function edit(it) {
		var c = it.data, id = c.id;
		var author = el('input', { id: 'ea-' + id, value: c.author, required: true });
		var text = el('textarea', { id: 'et-' + id, rows: '6', required: true });
		text.value = c.text;
		var f = el('form', { className: 'edit', 'aria-label': t(S.editComment, { id: id }) }, [
			el('label', { for: 'ea-' + id, text: S.name }), author,
			el('label', { for: 'et-' + id, text: S.textMd }), text,
			el('div', { className: 'actions' }, [el('button', { type: 'submit', className: 'primary', text: S.save }),
				el('button', { type: 'button', 'data-cancel': '', text: S.cancel })])
		]);
		openForm(it, f, text);
		f.addEventListener('submit', function (e) {
			e.preventDefault();
			api('PATCH', 'comments/' + id, { author: author.value, text: text.value }).then(function (j) {
				replace(it, Object.assign({}, c, j));
				say(t(S.saved, { id: id }));
			}, failed);
		});
	}
	/* Replying as the site's author; a held comment is approved with it. */
	function reply(it) {
		if (!canReply()) return;
		var c = it.data, id = c.id, approve = c.status !== 'published';
		var text = el('textarea', { id: 'rt-' + id, rows: '4', required: true });
		var f = el('form', { className: 'edit reply', 'aria-label': t(S.replyTo, { id: id }) }, [
			el('label', { for: 'rt-' + id, text: t(S.replyAs, { name: me.display_name }) }), text,
			el('div', { className: 'actions' }, [el('button', { type: 'submit', className: 'primary', text: approve ? S.approvePublish : S.publishReply }),
				el('button', { type: 'button', 'data-cancel': '', text: S.cancel })])
		]);
		openForm(it, f, text);
		f.addEventListener('submit', function (e) {
			e.preventDefault();
			api('POST', 'comments/' + id + '/reply', { text: text.value, approve: approve }).then(function () {
				say(t(approve ? S.approvedReplied : S.replied, { id: id }));
				f.remove();
				if (approve) after([it], 'approve');
				else stats();
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
		} else if (k === 'r' && it && it.data.status !== 'deleted') reply(it);
		else if (k === 'e' && it) edit(it);
		else if (k === '/') $('#q').focus();
		else if (k >= '1' && k <= '4') show(['pending', 'spam', 'published', 'deleted'][k - 1]);
		else return;
		e.preventDefault();
	});

	translate();
	if (token) api('GET', 'me').then(start, function () { signOut(' '); });
	else $('#token').focus();
})();
