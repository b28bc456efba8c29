// A small PromQL scanner for tests: which metric names does a query (as written in a Grafana
// dashboard, with its $variables) select? Not a full parser — it skips what cannot name a metric
// (strings, numbers and durations, range and subquery brackets, label matchers, label lists of
// by/without/on/ignoring/group_left/group_right, keywords, Grafana variables) and reports every
// other identifier. An identifier called like a function must be a PromQL function or
// aggregation, so a typo'd `histogram_quantil(` fails instead of disappearing.

/** PromQL aggregation operators: `sum by (le) (x)` and `sum(x) by (le)` are both valid. */
export const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values',
  'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);

/** PromQL functions (Prometheus 3.x). */
export const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min',
  'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'delta', 'deriv',
  'double_exponential_smoothing', 'exp', 'floor', 'histogram_avg', 'histogram_count',
  'histogram_fraction', 'histogram_quantile', 'histogram_stddev', 'histogram_stdvar', 'histogram_sum',
  'holt_winters', 'hour', 'idelta', 'increase', 'info', 'irate', 'label_join', 'label_replace', 'ln',
  'log2', 'log10', 'minute', 'month', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sgn',
  'sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc', 'sqrt', 'time', 'timestamp', 'vector', 'year',
  'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time', 'count_over_time',
  'quantile_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time', 'present_over_time',
  'mad_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'sin', 'sinh',
  'tan', 'tanh', 'deg', 'rad', 'pi',
  // the @ modifier's preprocessors: `x @ start()`
  'start', 'end',
]);

/** Keywords followed by a parenthesised list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Other keywords and literals that are never metric names. */
const KEYWORDS = new Set(['offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);

export class PromQLScanError extends Error {
  constructor(message: string, readonly expr: string, readonly position: number) {
    super(`${message} at ${position} in: ${expr}`);
    this.name = 'PromQLScanError';
  }
}

const IDENT_START = /[a-zA-Z_:]/;
const IDENT_PART = /[a-zA-Z0-9_:]/;
const LABEL_PART = /[a-zA-Z0-9_]/;

/** Metric names a PromQL expression selects, each once, in order of appearance. */
export function extractMetricNames(expr: string): string[] {
  const found: string[] = [];
  const add = (name: string) => {
    if (!found.includes(name)) found.push(name);
  };
  let i = 0;

  const fail = (message: string, at = i): never => {
    throw new PromQLScanError(message, expr, at);
  };
  const skipSpace = () => {
    for (;;) {
      while (i < expr.length && /\s/.test(expr[i]!)) i++;
      if (expr[i] !== '#') return;
      while (i < expr.length && expr[i] !== '\n') i++; // comment
    }
  };
  /** Reads a quoted string starting at i ("", '' with escapes, `` raw); returns its value. */
  const readString = (): string => {
    const quote = expr[i]!;
    const start = i++;
    let value = '';
    while (i < expr.length && expr[i] !== quote) {
      if (expr[i] === '\\' && quote !== '`') i++;
      value += expr[i++] ?? '';
    }
    if (i >= expr.length) fail('unterminated string', start);
    i++;
    return value;
  };
  const readWhile = (part: RegExp): string => {
    const start = i;
    while (i < expr.length && part.test(expr[i]!)) i++;
    return expr.slice(start, i);
  };
  /** Skips a balanced group opened at i (`[`, `(`), strings inside included. */
  const skipGroup = () => {
    const open = expr[i]!;
    const close = open === '[' ? ']' : ')';
    const start = i++;
    let depth = 1;
    while (depth > 0) {
      if (i >= expr.length) fail(`unbalanced ${open}`, start);
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') readString();
      else {
        if (c === open) depth++;
        else if (c === close) depth--;
        i++;
      }
    }
  };
  /** Skips a Grafana variable at i: $name, ${name}, ${name:format}. */
  const skipVariable = () => {
    i++;
    if (expr[i] === '{') {
      const end = expr.indexOf('}', i);
      if (end < 0) fail('unterminated ${variable}');
      i = end + 1;
    } else if (readWhile(LABEL_PART) === '') fail('lone $');
  };
  /** Label matchers {a="x", b=~"y", "quoted.name"}; reports __name__="m" and bare quoted names. */
  const readMatchers = () => {
    const start = i++;
    for (;;) {
      skipSpace();
      if (i >= expr.length) fail('unbalanced {', start);
      if (expr[i] === '}') {
        i++;
        return;
      }
      if (expr[i] === ',') {
        i++;
        continue;
      }
      let label: string;
      const quoted = expr[i] === '"' || expr[i] === "'" || expr[i] === '`';
      if (quoted) label = readString();
      else if (expr[i] === '$') {
        skipVariable();
        label = '';
      } else {
        label = readWhile(LABEL_PART);
        if (label === '') fail(`unexpected ${JSON.stringify(expr[i])} in label matchers`);
      }
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))?.[0];
      if (!op) {
        if (!quoted) fail(`label ${label} without a matcher`);
        add(label); // {"metric.name"}: a quoted metric name (Prometheus 3)
        continue;
      }
      i += op.length;
      skipSpace();
      let value = '';
      if (expr[i] === '"' || expr[i] === "'" || expr[i] === '`') value = readString();
      else if (expr[i] === '$') skipVariable(); // Grafana lets a variable stand for the string
      else fail(`label ${label} needs a string value`);
      if (label === '__name__' && op === '=' && value && !value.includes('$')) add(value);
    }
  };

  while (i < expr.length) {
    skipSpace();
    if (i >= expr.length) break;
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') readString();
    else if (c === '$') skipVariable();
    else if (c === '[') skipGroup(); // range, subquery, or Grafana's legacy [[variable]]
    else if (c === '{') readMatchers();
    else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(expr[i + 1] ?? ''))) readWhile(/[0-9a-zA-Z_.]/); // number, duration, hex
    else if (IDENT_START.test(c)) {
      const name = readWhile(IDENT_PART);
      const lower = name.toLowerCase();
      skipSpace();
      // `sum by (le) (x)`: an aggregation's grouping may come before its argument
      const called = expr[i] === '(' || (AGGREGATIONS.has(name) && /^(by|without)\b/i.test(expr.slice(i)));
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        if (called) skipGroup();
      } else if (KEYWORDS.has(lower)) {
        // operator or literal
      } else if (called) {
        if (!FUNCTIONS.has(name) && !AGGREGATIONS.has(name)) fail(`unknown function ${name}()`);
      } else add(name);
    } else if (c === ']' || c === '}') fail(`unbalanced ${c}`);
    else i++; // operators, parentheses, commas, @
  }
  return found;
}

/**
 * Metric names a Grafana Prometheus *query variable* selects: label_values(metric, label),
 * label_values(label), label_names(match), metrics(regex), query_result(expr), or plain PromQL.
 */
export function extractVariableQueryMetrics(query: string): string[] {
  const q = query.trim();
  const call = /^(label_values|label_names|metrics|query_result)\s*\(([\s\S]*)\)$/.exec(q);
  if (!call) return extractMetricNames(q);
  const [, fn, args = ''] = call;
  switch (fn) {
    case 'metrics':
      return []; // a regex over names, not a selector
    case 'query_result':
    case 'label_names':
      return args.trim() ? extractMetricNames(args) : [];
    default: {
      // label_values([selector,] label): the label is the last argument, after the last top-level comma
      const comma = lastTopLevelComma(args);
      return comma < 0 ? [] : extractMetricNames(args.slice(0, comma));
    }
  }
}

function lastTopLevelComma(text: string): number {
  let depth = 0;
  let quote = '';
  let last = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) last = i;
  }
  return last;
}

/**
 * A Grafana Prometheus query with its variables replaced the way Grafana does before sending it:
 * `$name`, `${name}`, `${name:regex}` and `[[name]]` by the given values (a multi-value variable
 * selected as "All" with allValue `.*` becomes `.*`), and the built-ins `$__rate_interval`,
 * `$__interval`, `$__range` (durations such as "10s") and `$__range_s`. Unknown variables fail.
 */
export function expandVariables(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (whole, braced?: string, bracketed?: string, bare?: string) => {
    const name = (braced ?? bracketed ?? bare)!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${whole} in: ${expr}`);
    return value;
  });
}
