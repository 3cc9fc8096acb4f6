// `whoami /groups /fo csv /nh` as Windows Server prints it in three display languages. Group names,
// the Attributes column and the integrity label are localized (MUI resources of whoami.exe); the SIDs
// are not. A UAC-filtered token (remote UAC, a local administrator on a network logon without
// LocalAccountTokenFilterPolicy) lists Administrators as "deny only" and has the Medium integrity level.
// Sources: "whoami" (Windows Commands reference), "Well-known SIDs" and "Mandatory Integrity Control"
// (Win32 docs); the German and French strings as those editions print them.

export type DisplayLanguage = 'en-US' | 'de-DE' | 'fr-FR';

interface Strings {
  everyone: string; wellKnown: string; admins: string; users: string; network: string; authenticated: string;
  enabled: string; owner: string; denyOnly: string; label: string; high: string; medium: string;
}

const STRINGS: Record<DisplayLanguage, Strings> = {
  'en-US': {
    everyone: 'Everyone', wellKnown: 'Well-known group', admins: 'BUILTIN\\Administrators', users: 'BUILTIN\\Users',
    network: 'NT AUTHORITY\\NETWORK', authenticated: 'NT AUTHORITY\\Authenticated Users',
    enabled: 'Mandatory group, Enabled by default, Enabled group', owner: 'Group owner', denyOnly: 'Group used for deny only',
    label: 'Label', high: 'Mandatory Label\\High Mandatory Level', medium: 'Mandatory Label\\Medium Mandatory Level',
  },
  'de-DE': {
    everyone: 'Jeder', wellKnown: 'Bekannte Gruppe', admins: 'VORDEFINIERT\\Administratoren', users: 'VORDEFINIERT\\Benutzer',
    network: 'NT-AUTORITÄT\\NETZWERK', authenticated: 'NT-AUTORITÄT\\Authentifizierte Benutzer',
    enabled: 'Verbindliche Gruppe, Standardmäßig aktiviert, Aktivierte Gruppe', owner: 'Gruppenbesitzer', denyOnly: 'Nur für Verweigerungen verwendete Gruppe',
    label: 'Bezeichnung', high: 'Verbindliche Beschriftung\\Hohe Verbindlichkeitsstufe', medium: 'Verbindliche Beschriftung\\Mittlere Verbindlichkeitsstufe',
  },
  'fr-FR': {
    everyone: 'Tout le monde', wellKnown: 'Groupe bien connu', admins: 'BUILTIN\\Administrateurs', users: 'BUILTIN\\Utilisateurs',
    network: 'AUTORITE NT\\RESEAU', authenticated: 'AUTORITE NT\\Utilisateurs authentifiés',
    enabled: 'Groupe obligatoire, Activé par défaut, Groupe activé', owner: 'Propriétaire du groupe', denyOnly: 'Groupe utilisé pour refus uniquement',
    label: 'Étiquette', high: 'Étiquette obligatoire\\Niveau obligatoire élevé', medium: 'Étiquette obligatoire\\Niveau obligatoire moyen',
  },
};

/** The CSV rows (CRLF) for an administrator's token: elevated (High) or filtered by UAC (Medium, Administrators deny only). */
export function whoamiGroupsCsv(language: DisplayLanguage, elevated: boolean): string {
  const s = STRINGS[language];
  const rows = [
    [s.everyone, s.wellKnown, 'S-1-1-0', s.enabled],
    [s.admins, 'Alias', 'S-1-5-32-544', elevated ? `${s.enabled}, ${s.owner}` : s.denyOnly],
    [s.users, 'Alias', 'S-1-5-32-545', s.enabled],
    [s.network, s.wellKnown, 'S-1-5-2', s.enabled],
    [s.authenticated, s.wellKnown, 'S-1-5-11', s.enabled],
    [elevated ? s.high : s.medium, s.label, elevated ? 'S-1-16-12288' : 'S-1-16-8192', ''],
  ];
  return rows.map((r) => r.map((c) => `"${c}"`).join(',')).join('\r\n') + '\r\n';
}
