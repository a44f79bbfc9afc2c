/**
 * Pure rules for a MySQL/MariaDB source: given the server's variables, the user's grants and the configured
 * tables, list what stops binlog capture. Kept apart from the probe so every bad setting can be tested.
 */
import type { MysqlSourceConfig } from '../config/index.js';
import type { CheckProblem } from './report.js';
import { judgeTables, type TableFacts } from './tables.js';

export interface MysqlFacts {
  /** SELECT VERSION(), e.g. `10.11.6-MariaDB-0+deb12u1` or `8.0.36`. */
  readonly version: string;
  /** Global variables: log_bin, binlog_format, binlog_row_image, binlog_row_metadata, server_id, gtid_mode. */
  readonly variables: Readonly<Record<string, string>>;
  /** SHOW GRANTS lines for the connected user. */
  readonly grants: readonly string[];
  readonly tables: readonly TableFacts[];
}

export function mysqlService(source: MysqlSourceConfig): string {
  const { host, port } = source.connection;
  return `source ${source.name} (mysql ${host}:${port})`;
}

export function judgeMysql(source: MysqlSourceConfig, sourceIndex: number, facts: MysqlFacts): CheckProblem[] {
  const service = mysqlService(source);
  const problems: CheckProblem[] = [];
  const add = (severity: CheckProblem['severity'], problem: string, fix: string): void => {
    problems.push({ service, severity, problem, fix });
  };
  const mariadb = /mariadb/i.test(facts.version);
  const section = mariadb ? '[mariadbd]' : '[mysqld]';
  const variable = (name: string): string | undefined => facts.variables[name]?.toUpperCase();

  if (variable('log_bin') !== 'ON') {
    add(
      'error',
      `log_bin is ${facts.variables.log_bin ?? 'unknown'}: the server writes no binary log`,
      `add log_bin = mysql-bin under ${section} in my.cnf and restart the server (log_bin cannot be changed at runtime)`,
    );
  }
  for (const [name, wanted] of [
    ['binlog_format', 'ROW'],
    ['binlog_row_image', 'FULL'],
  ] as const) {
    if (variable(name) !== wanted) {
      add(
        'error',
        `${name} is ${facts.variables[name] ?? 'unknown'}; row capture needs ${name} = ${wanted}`,
        `run SET GLOBAL ${name} = '${wanted}'; and add ${name} = ${wanted} under ${section} in my.cnf so it survives a restart`,
      );
    }
  }
  const rowMetadata = facts.variables.binlog_row_metadata;
  if (rowMetadata === undefined) {
    add(
      'error',
      `the server (${facts.version}) has no binlog_row_metadata, so the binlog carries no column names`,
      'upgrade to MariaDB 10.5+ or MySQL 8.0+',
    );
  } else if (rowMetadata.toUpperCase() !== 'FULL') {
    add(
      'error',
      `binlog_row_metadata is ${rowMetadata}; Tributary needs binlog_row_metadata = FULL to read column names from the binlog`,
      `run SET GLOBAL binlog_row_metadata = 'FULL'; and add binlog_row_metadata = FULL under ${section} in my.cnf`,
    );
  }
  const serverId = facts.variables.server_id;
  if (serverId === '0') {
    add('error', 'server_id is 0, which disables the binary log for replication', `set server_id = 1 under ${section} in my.cnf and restart the server`);
  } else if (serverId === String(source.serverId)) {
    add(
      'error',
      `sources[${sourceIndex}].serverId is ${source.serverId}, the same as the server's own server_id`,
      `set sources[${sourceIndex}].serverId to a number no server or replica in the topology uses`,
    );
  }
  if (source.gtid && !mariadb && variable('gtid_mode') !== 'ON') {
    add(
      'error',
      `sources[${sourceIndex}].gtid is true but the server's gtid_mode is ${facts.variables.gtid_mode ?? 'unknown'}`,
      `set gtid_mode = ON and enforce_gtid_consistency = ON under [mysqld], or set sources[${sourceIndex}].gtid: false`,
    );
  }

  const grants = parseGrants(facts.grants);
  const user = source.connection.user;
  if (!grants.has('REPLICATION SLAVE', '*.*')) {
    add('error', `the user ${user} (sources[${sourceIndex}].connection.user) lacks REPLICATION SLAVE, needed to read the binlog`, `run GRANT REPLICATION SLAVE ON *.* TO '${user}'@'%';`);
  }
  if (!grants.has(mariadb ? 'BINLOG MONITOR' : 'REPLICATION CLIENT', '*.*')) {
    const privilege = mariadb ? 'BINLOG MONITOR' : 'REPLICATION CLIENT';
    add('error', `the user ${user} (sources[${sourceIndex}].connection.user) lacks ${privilege}, needed to read binlog positions`, `run GRANT ${privilege} ON *.* TO '${user}'@'%';`);
  }

  const tables = new Map(facts.tables.map((table) => [table.name, { ...table, canSelect: table.canSelect && grants.canSelect(table.name) }]));
  problems.push(
    ...judgeTables(source, sourceIndex, tables, {
      service,
      where: 'on this server',
      grantSelect: (table) => `run GRANT SELECT ON ${table} TO '${user}'@'%';`,
    }),
  );
  return problems;
}

/** REPLICATION CLIENT and BINLOG MONITOR are one privilege under two names (MariaDB renamed it in 10.5). */
const ALIASES: Record<string, string> = {
  'REPLICATION REPLICA': 'REPLICATION SLAVE',
  'REPLICATION CLIENT': 'BINLOG MONITOR',
};

interface Grants {
  has(privilege: string, on: '*.*'): boolean;
  canSelect(table: string): boolean;
}

/** Reads SHOW GRANTS lines well enough to answer "may this user do X on Y"; role grants are not followed. */
export function parseGrants(lines: readonly string[]): Grants {
  const granted: { privileges: Set<string>; on: string }[] = [];
  for (const line of lines) {
    const match = /^GRANT\s+(.+?)\s+ON\s+(?:TABLE\s+)?(\S+)\s+TO\s/i.exec(line);
    if (match === null) continue;
    const [, list = '', on = ''] = match;
    // Column grants such as SELECT (`a`, `b`) count as the privilege: the probe cannot see more cheaply.
    const privileges = list
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .map((privilege) => privilege.trim().toUpperCase().replace(/\s+/g, ' '))
      .map((privilege) => ALIASES[privilege] ?? privilege);
    granted.push({ privileges: new Set(privileges), on: on.replace(/`/g, '') });
  }
  const allows = (privilege: string, targets: readonly string[]): boolean => {
    const wanted = ALIASES[privilege] ?? privilege;
    return granted.some(
      (grant) =>
        targets.includes(grant.on) &&
        (grant.privileges.has(wanted) || grant.privileges.has('ALL PRIVILEGES') || grant.privileges.has('ALL') || (wanted === 'BINLOG MONITOR' && grant.privileges.has('SUPER'))),
    );
  };
  return {
    has: (privilege, on) => allows(privilege, [on]),
    canSelect: (table) => {
      const database = table.slice(0, table.indexOf('.'));
      return allows('SELECT', ['*.*', `${database}.*`, table]);
    },
  };
}
