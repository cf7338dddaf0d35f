// GraphQL documents (graphql's own parser) and SQL statements (node-sql-parser), loaded only
// when a call carries one: both cost more to load than the rest of the guard together.
// Reading is synchronous (so the whole analysis can run under one hard time limit, see
// bounded.ts); a parser not loaded yet is asked for by throwing NeedParser, and the driver
// loads it and reads the call again.
import type { SqlStatementKind } from '../core/policy.js';
import { NeedParser } from './need.js';

export interface GraphqlFacts {
  mutations: string[];
  queries: string[];
  /** A document was there but could not be parsed. */
  unparsed: boolean;
}

/** The top-level fields of every operation in the bodies (JSON `{query}`, batches, raw documents). */
export function graphqlOf(bodies: { text: string; literal: boolean }[]): GraphqlFacts {
  const out: GraphqlFacts = { mutations: [], queries: [], unparsed: false };
  const docs: string[] = [];
  for (const b of bodies) {
    if (!b.literal) {
      out.unparsed = true;
      continue;
    }
    const t = b.text.trim();
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch {
      json = undefined;
    }
    const items = Array.isArray(json) ? json : json !== undefined ? [json] : [];
    if (json !== undefined) {
      for (const it of items) {
        const q = it && typeof it === 'object' ? (it as Record<string, unknown>).query : undefined;
        if (typeof q === 'string') docs.push(q);
        // a persisted query (an id or a hash, no document): what it does cannot be read
        else if (q !== undefined || (it && typeof it === 'object' && ('extensions' in it || 'id' in it || 'queryId' in it || 'documentId' in it))) out.unparsed = true;
      }
    } else if (/^\s*(mutation|query|subscription|fragment|\{)/.test(t)) docs.push(t);
    else if (/mutation|query/.test(t)) out.unparsed = true;
  }
  if (docs.length === 0) return out;
  const parse = graphqlParse;
  if (!parse) throw new NeedParser('graphql');
  for (const d of docs) {
    try {
      const doc = parse(d, { maxTokens: 20_000 });
      const fragments = new Map<string, readonly any[]>();
      for (const def of doc.definitions) if (def.kind === 'FragmentDefinition') fragments.set(def.name.value, def.selectionSet.selections);
      const fields = (selections: readonly any[], seen = new Set<string>()): string[] =>
        selections.flatMap((s) => {
          if (s.kind === 'Field') return [s.name.value as string];
          if (s.kind === 'InlineFragment') return fields(s.selectionSet.selections, seen);
          if (s.kind === 'FragmentSpread' && !seen.has(s.name.value)) {
            seen.add(s.name.value);
            return fields(fragments.get(s.name.value) ?? [], seen);
          }
          return [];
        });
      for (const def of doc.definitions) {
        if (def.kind !== 'OperationDefinition') continue;
        (def.operation === 'mutation' ? out.mutations : out.queries).push(...fields(def.selectionSet.selections));
      }
    } catch {
      out.unparsed = true;
    }
  }
  return out;
}

/**
 * SQL with comments and quoted text removed: what a lexical reading of statement kinds needs.
 * One pass, linear (regular expressions for unterminated comments and quotes are quadratic).
 */
export function stripSql(sql: string): string {
  const out: string[] = [];
  const n = sql.length;
  let i = 0;
  let from = 0;
  const skip = (to: number, put: string) => {
    out.push(sql.slice(from, i), put);
    i = to;
    from = to;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const d = sql.charCodeAt(i + 1);
    if (c === 92 /* \\ */ && (i === 0 || sql.charCodeAt(i - 1) === 10)) {
      // a psql meta-command line (\connect, \dt): not SQL
      const e = sql.indexOf('\n', i);
      skip(e < 0 ? n : e, ' ');
    } else if (c === 45 /* - */ && d === 45) {
      const e = sql.indexOf('\n', i);
      skip(e < 0 ? n : e, ' ');
    } else if (c === 47 /* / */ && d === 42 /* * */) {
      const e = sql.indexOf('*/', i + 2);
      skip(e < 0 ? n : e + 2, ' ');
    } else if (c === 39 /* ' */) {
      let j = i + 1;
      for (;;) {
        const e = sql.indexOf("'", j);
        if (e < 0) {
          j = n;
          break;
        }
        if (sql.charCodeAt(e + 1) === 39) j = e + 2;
        else {
          j = e + 1;
          break;
        }
      }
      skip(j, "''");
    } else if (c === 36 /* $ */ && d === 36) {
      const e = sql.indexOf('$$', i + 2);
      skip(e < 0 ? n : e + 2, "''");
    } else i++;
  }
  out.push(sql.slice(from));
  return out.join('');
}

/**
 * `EXPLAIN [ANALYZE] [VERBOSE] [(options)] stmt` → `stmt`: the parsers lack EXPLAIN, and
 * EXPLAIN ANALYZE runs its statement, so the statement is what is judged.
 */
export function unexplain(sql: string): string {
  return sql.replace(/(^|;)([ \t\r\n]*)EXPLAIN(?:[ \t\r\n]*\([^()]{0,200}\))?(?:[ \t\r\n]+(?:ANALYZE|ANALYSE|VERBOSE|QUERY[ \t]+PLAN(?:[ \t]+FOR)?|FORMAT[ \t]+\w+))*(?=[ \t\r\n])/gi, '$1$2');
}

/** Destructive statement kinds found by keyword, for what the SQL parser's dialect cannot parse. */
function lexicalKinds(sql: string): { kinds: SqlStatementKind[]; statements: number } {
  const kinds: SqlStatementKind[] = [];
  const parts = unexplain(stripSql(sql)).split(';').map((s) => s.trim().replace(/\s+/g, ' ').toUpperCase()).filter(Boolean);
  for (const s of parts) {
    if (/^DROP (DATABASE|DB)\b/.test(s)) kinds.push('drop_database');
    else if (/^DROP SCHEMA\b/.test(s)) kinds.push('drop_schema');
    else if (/^DROP TABLE\b/.test(s)) kinds.push('drop_table');
    else if (/^TRUNCATE\b/.test(s)) kinds.push('truncate');
    else if (/^DELETE FROM\b/.test(s) && !/\bWHERE\b/.test(s)) kinds.push('delete_without_where');
    else if (/^UPDATE\b/.test(s) && !/\bWHERE\b/.test(s)) kinds.push('update_without_where');
  }
  return { kinds, statements: parts.length };
}

type SqlParser = { astify(sql: string, opt?: { database?: string }): unknown };
let parsers: Record<string, SqlParser> = {};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let graphqlParse: ((doc: string, o: { maxTokens: number }) => any) | undefined;

/**
 * Loads `graphql` or `sql:<dialect>`. The bundle turns the CommonJS modules into chunks that
 * export only `default`: take the named export from either shape.
 */
export async function loadStatementParser(which: string): Promise<void> {
  if (which === 'graphql') {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const mod: any = await import('graphql/language/parser.js');
    const parse = mod.parse ?? mod.default?.parse;
    if (typeof parse !== 'function') throw new Error('the GraphQL parser module has no parse()');
    graphqlParse = parse;
    return;
  }
  const dialect = which.replace(/^sql:/, '');
  if (parsers[dialect]) return;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const mod: any = dialect === 'mysql' ? await import('node-sql-parser/build/mysql.js') : dialect === 'sqlite' ? await import('node-sql-parser/build/sqlite.js') : dialect === 'transactsql' ? await import('node-sql-parser/build/transactsql.js') : await import('node-sql-parser/build/postgresql.js');
  const P = mod.Parser ?? mod.default?.Parser;
  if (typeof P !== 'function') throw new Error(`the SQL parser module (${dialect}) has no Parser`);
  parsers[dialect] = new P() as SqlParser;
}

function dialectOf(client: string): string {
  if (/^(mysql|mariadb|mycli)$/.test(client)) return 'mysql';
  if (/^(sqlite3|sqlite|litecli|turso|wrangler|duckdb)$/.test(client)) return 'sqlite';
  if (client === 'sqlcmd') return 'transactsql';
  return 'postgresql';
}

function parserFor(dialect: string): SqlParser {
  const p = parsers[dialect];
  if (!p) throw new NeedParser(`sql:${dialect}`);
  return p;
}

export interface SqlFacts {
  statements: SqlStatementKind[];
  unparsed: boolean;
}

/** The destructive statement kinds in SQL sent to a database client. */
export function sqlOf(texts: { text: string; literal: boolean }[], client: string): SqlFacts {
  const out: SqlFacts = { statements: [], unparsed: false };
  for (const t of texts) {
    if (!t.literal) {
      out.unparsed = true;
      continue;
    }
    const lexical = lexicalKinds(t.text);
    out.statements.push(...lexical.kinds);
    // psql meta-commands (`\dt`) and SQLite dot-commands (`.tables`) are the client's, not SQL
    const dialect0 = dialectOf(client);
    const body = unexplain(t.text.replace(/^[ \t]*\\.*$/gm, '').replace(dialect0 === 'sqlite' ? /^[ \t]*\.[A-Za-z].*$/gm : /$^/, '')).trim();
    if (!body) continue;
    if (body.length > 64 * 1024) {
      out.unparsed = true;
      continue;
    }
    const dialect = dialectOf(client);
    try {
      const ast = parserFor(dialect).astify(body, { database: dialect });
      for (const s of (Array.isArray(ast) ? ast : [ast]) as Record<string, any>[]) {
        const type = String(s.type ?? '').toLowerCase();
        const keyword = String(s.keyword ?? '').toLowerCase();
        if (type === 'drop' && (keyword === 'database' || keyword === 'schema')) out.statements.push(keyword === 'database' ? 'drop_database' : 'drop_schema');
        else if (type === 'drop' && keyword === 'table') out.statements.push('drop_table');
        else if (type === 'truncate') out.statements.push('truncate');
        else if (type === 'delete' && !s.where) out.statements.push('delete_without_where');
        else if (type === 'update' && !s.where) out.statements.push('update_without_where');
      }
    } catch (e) {
      if (e instanceof NeedParser) throw e;
      // the dialect's grammar lacks it: a destructive keyword reading stands; otherwise unknown
      if (lexical.kinds.length === 0) out.unparsed = true;
    }
  }
  out.statements = [...new Set(out.statements)];
  return out;
}

export const _resetSqlParsers = () => {
  parsers = {};
};
