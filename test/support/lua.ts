import fengari from "fengari";

/**
 * Runs Argo CD resource health checks (health.lua) in fengari, a Lua VM written in JavaScript (npm, no system
 * package). Argo CD embeds gopher-lua (Lua 5.1); the scripts keep to the subset both run, which
 * `luaFeaturesBeyond51` checks. As in Argo CD, the object is the global `obj` and the script returns `hs`.
 */
const { lua, lauxlib, lualib, to_luastring } = fengari;

export interface HealthStatus {
  status: string;
  message: string;
}

/** A Lua literal for a JSON-like value; null/undefined become nil (so the key is absent, as in Argo CD). */
export function toLuaLiteral(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot pass ${value} to Lua`);
    return String(value);
  }
  if (typeof value === "string") return luaString(value);
  if (value instanceof Date) return luaString(value.toISOString().replace(".000Z", "Z"));
  if (Array.isArray(value)) return `{${value.map(toLuaLiteral).join(", ")}}`;
  if (typeof value === "object") {
    const fields = Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${toLuaLiteral(v)}`);
    return `{${fields.join(", ")}}`;
  }
  throw new Error(`cannot pass a ${typeof value} to Lua`);
}

function luaString(s: string): string {
  // Decimal escapes for every byte outside printable ASCII: valid in Lua 5.1 through 5.4.
  const bytes = Buffer.from(s, "utf8");
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, "0")}`;
  }
  return `${out}"`;
}

/** Evaluates a health script against one object, as Argo CD's health assessment does. */
export function runHealthScript(script: string, object: unknown): HealthStatus {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const chunk = `obj = ${toLuaLiteral(object)}\nlocal function health()\n${script}\nend\nlocal hs = health()\nreturn hs.status, hs.message`;
  const code = to_luastring(chunk);
  if (lauxlib.luaL_loadbuffer(L, code, null, to_luastring("=health.lua")) !== lua.LUA_OK) {
    throw new Error(`health.lua does not compile: ${lua.lua_tojsstring(L, -1) ?? "?"}`);
  }
  if (lua.lua_pcall(L, 0, 2, 0) !== lua.LUA_OK) throw new Error(`health.lua failed: ${lua.lua_tojsstring(L, -1) ?? "?"}`);
  const status = lua.lua_type(L, -2) === lua.LUA_TSTRING ? (lua.lua_tojsstring(L, -2) ?? "") : "";
  const message = lua.lua_type(L, -1) === lua.LUA_TSTRING ? (lua.lua_tojsstring(L, -1) ?? "") : "";
  lua.lua_settop(L, 0);
  return { status, message };
}

/** Constructs newer than Lua 5.1 (gopher-lua would reject them), found outside comments and string literals. */
export function luaFeaturesBeyond51(script: string): string[] {
  const code = script
    .replace(/--\[(=*)\[[\s\S]*?\]\1\]/g, "")
    .replace(/--[^\n]*/g, "")
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
  const rules: [RegExp, string][] = [
    [/\bgoto\b/, "goto"],
    [/::\w+::/, "labels"],
    [/\/\//, "integer division //"],
    [/[&|]|<<|>>|~(?!=)/, "bitwise operators"],
    [/\butf8\./, "utf8 library"],
    [/\btable\.(unpack|move)\b/, "table.unpack/move"],
    [/\bstring\.(pack|unpack)\b/, "string.pack"],
    [/\bmath\.(tointeger|type|ult)\b/, "integer math"],
  ];
  return rules.filter(([re]) => re.test(code)).map(([, name]) => name);
}
