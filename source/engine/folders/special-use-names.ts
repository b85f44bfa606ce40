// Names by which folders announce their role when the server does not flag them with RFC 6154
// SPECIAL-USE attributes (Courier, older Dovecot configs, Exchange with some clients, ...).
// The folder-mapping rules decide where a name counts (top level, directly under INBOX, or
// directly under Gmail's [Gmail] / [Google Mail] folder); this file only says what a name means.
//
// Entries are compared after normalizeFolderName(), so case, Unicode composition (an "ü" typed as
// u + combining diaeresis) and surrounding spaces do not matter. Within a kind, earlier names rank
// higher: when several folders claim the same kind by name, the best-ranked name wins, which keeps
// the choice stable from one run to the next (message counts would not).

export type SpecialUse =
  | '\\Sent'
  | '\\Drafts'
  | '\\Trash'
  | '\\Junk'
  | '\\Archive'
  | '\\All'
  | '\\Flagged'
  | '\\Important';

export const SPECIAL_USES: readonly SpecialUse[] = [
  '\\Sent',
  '\\Drafts',
  '\\Trash',
  '\\Junk',
  '\\Archive',
  '\\All',
  '\\Flagged',
  '\\Important',
];

/** Kinds whose folders hold real messages and are mapped onto the target's folder of that kind. */
export const MAPPED_SPECIAL_USES: readonly SpecialUse[] = ['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive'];

/**
 * The name a kind's folder gets on a target that has no folder of the kind and no
 * CREATE-SPECIAL-USE: RFC 6154's example names, which are also Dovecot's defaults (its
 * `mailbox Sent { special_use = \Sent }` blocks mark the folder once it is created under that
 * name) and what most servers and clients look for.
 */
export const CONVENTIONAL_NAMES: Readonly<Record<'\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive', string>> = {
  '\\Sent': 'Sent',
  '\\Drafts': 'Drafts',
  '\\Trash': 'Trash',
  '\\Junk': 'Junk',
  '\\Archive': 'Archive',
};

/** Kinds that only show messages stored in other folders (RFC 6154 \All and \Flagged, RFC 8457 \Important). */
export const VIRTUAL_SPECIAL_USES: readonly SpecialUse[] = ['\\All', '\\Flagged', '\\Important'];

/** Names recognised at top level or directly under INBOX (and also under [Gmail]). */
const COMMON_NAMES: Record<'\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive', string[]> = {
  '\\Sent': [
    'Sent',
    'Sent Items',
    'Sent Messages',
    'Sent Mail',
    'Gesendet',
    'Gesendete Elemente',
    'Gesendete Objekte',
    'Elementi inviati',
    'Posta inviata',
    'Inviati',
    'Envoyés',
    'Éléments envoyés',
    'Messages envoyés',
    'Enviados',
    'Elementos enviados',
    'Correo enviado',
    'Itens enviados',
    'Mensagens enviadas',
    'Wysłane',
    'Elementy wysłane',
    'Απεσταλμένα',
    'Sendt',
    'Sendte elementer',
    'Sendt post',
    'Skickat',
    'Skickade objekt',
    'Verzonden items',
    'Verzonden',
    'Отправленные',
    'Lähetetyt',
    'Lähetetyt kohteet',
    'Odeslaná pošta',
    'Odeslané',
    'Gönderilmiş Öğeler',
    '送信済み',
    '送信済みアイテム',
    '已发送',
    '已发送邮件',
  ],
  '\\Drafts': [
    'Drafts',
    'Draft',
    'Entwürfe',
    'Bozze',
    'Brouillons',
    'Borradores',
    'Rascunhos',
    'Kopie robocze',
    'Wersje robocze',
    'Πρόχειρα',
    'Kladder',
    'Kladd',
    'Utkast',
    'Concepten',
    'Черновики',
    'Luonnokset',
    'Koncepty',
    'Taslaklar',
    '下書き',
    '草稿',
    '草稿箱',
  ],
  '\\Trash': [
    'Trash',
    'Deleted Items',
    'Deleted Messages',
    'Deleted',
    'Bin',
    'Papierkorb',
    'Gelöschte Elemente',
    'Gelöschte Objekte',
    'Cestino',
    'Posta eliminata',
    'Elementi eliminati',
    'Corbeille',
    'Éléments supprimés',
    'Papelera',
    'Elementos eliminados',
    'Lixeira',
    'Lixo',
    'Itens excluídos',
    'Kosz',
    'Elementy usunięte',
    'Κάδος απορριμμάτων',
    'Διαγραμμένα',
    'Papirkurv',
    'Slettet post',
    'Slettede elementer',
    'Papperskorgen',
    'Borttagna objekt',
    'Prullenbak',
    'Verwijderde items',
    'Корзина',
    'Удаленные',
    'Удалённые',
    'Roskakori',
    'Poistetut',
    'Koš',
    'Odstraněná pošta',
    'Çöp Kutusu',
    'ゴミ箱',
    '削除済みアイテム',
    '已删除',
    '已删除邮件',
  ],
  '\\Junk': [
    'Junk',
    'Spam',
    'Junk E-mail',
    'Junk Email',
    'Junk Mail',
    'Bulk Mail',
    'Junk-E-Mail',
    'Spamverdacht',
    'Posta indesiderata',
    'Courrier indésirable',
    'Indésirables',
    'Pourriel',
    'Correo no deseado',
    'Lixo eletrônico',
    'Wiadomości-śmieci',
    'Ανεπιθύμητα',
    'Uønsket e-mail',
    'Uønsket e-post',
    'Søppelpost',
    'Skräppost',
    'Ongewenste e-mail',
    'Нежелательная почта',
    'Спам',
    'Roskaposti',
    'Nevyžádaná pošta',
    'Önemsiz E-posta',
    '迷惑メール',
    '垃圾邮件',
  ],
  '\\Archive': [
    'Archive',
    'Archives',
    'Archiv',
    'Archivio',
    'Archiwum',
    'Αρχειοθέτηση',
    'Αρχείο',
    'Arkiv',
    'Archivo',
    'Archief',
    'Архив',
    'Arkisto',
    'Arquivo',
    'アーカイブ',
    '归档',
  ],
};

/** Names that only mean a virtual folder directly under [Gmail] / [Google Mail] (Gmail's web UI
 *  languages) on a server that is Gmail; a user's own top-level "Important" or "Starred"
 *  folder, or anything under a [Gmail] folder on another server, is a real folder. */
const GMAIL_ONLY_NAMES: Record<'\\All' | '\\Flagged' | '\\Important', string[]> = {
  '\\All': ['All Mail', 'Alle Nachrichten', 'Tutti i messaggi', 'Tous les messages', 'Todos', 'Wszystkie', 'Вся почта'],
  '\\Flagged': ['Starred', 'Markiert', 'Speciali', 'Suivis', 'Destacados', 'Com estrela', 'Oznaczone gwiazdką', 'Помеченные'],
  '\\Important': ['Important', 'Wichtig', 'Importanti', 'Importants', 'Importantes', 'Ważne', 'Важное'],
};

/** The parent folders under which Gmail keeps its system folders. Only on a source that is
 *  Gmail (X-GM-EXT-1): elsewhere a folder called [Gmail] is the user's own. */
export const GMAIL_ROOTS: readonly string[] = ['[Gmail]', '[Google Mail]'];

/** Case-, composition- and whitespace-insensitive form used for every name comparison here. */
export function normalizeFolderName(name: string): string {
  return name.normalize('NFC').trim().toLowerCase();
}

interface NameInfo {
  use: SpecialUse;
  rank: number;
}

function buildIndex(tables: Record<string, string[]>[]): Map<string, NameInfo> {
  const index = new Map<string, NameInfo>();
  for (const table of tables) {
    for (const [use, names] of Object.entries(table)) {
      names.forEach((name, rank) => {
        const key = normalizeFolderName(name);
        if (index.has(key)) throw new Error(`special-use name table lists "${name}" twice`);
        index.set(key, {use: use as SpecialUse, rank});
      });
    }
  }
  return index;
}

const COMMON_INDEX = buildIndex([COMMON_NAMES]);
const GMAIL_INDEX = buildIndex([GMAIL_ONLY_NAMES]);

/**
 * The kind a single folder name stands for, or undefined.
 * `underGmailRoot`: the name sits directly under [Gmail] / [Google Mail], where Gmail's virtual
 * folders (All Mail, Starred, Important and their translations) are recognised too.
 */
export function specialUseForName(name: string, underGmailRoot = false): NameInfo | undefined {
  const key = normalizeFolderName(name);
  return COMMON_INDEX.get(key) ?? (underGmailRoot ? GMAIL_INDEX.get(key) : undefined);
}

/** Every name in the tables, for tests and documentation. */
export function knownSpecialUseNames(): {name: string; use: SpecialUse; gmailOnly: boolean}[] {
  const rows: {name: string; use: SpecialUse; gmailOnly: boolean}[] = [];
  for (const [use, names] of Object.entries(COMMON_NAMES)) {
    for (const name of names) rows.push({name, use: use as SpecialUse, gmailOnly: false});
  }
  for (const [use, names] of Object.entries(GMAIL_ONLY_NAMES)) {
    for (const name of names) rows.push({name, use: use as SpecialUse, gmailOnly: true});
  }
  return rows;
}
