// Just the part of fengari's C-like API (a Lua 5.3 VM in JavaScript) that test/support/lua.ts uses.
declare module "fengari" {
  type LuaState = { readonly __luaState: unique symbol };
  const fengari: {
    to_luastring(s: string): Uint8Array;
    lua: {
      LUA_OK: number;
      lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
      lua_tojsstring(L: LuaState, index: number): string | null;
      lua_type(L: LuaState, index: number): number;
      lua_settop(L: LuaState, index: number): void;
      LUA_TSTRING: number;
    };
    lauxlib: {
      luaL_newstate(): LuaState;
      luaL_loadbuffer(L: LuaState, code: Uint8Array, size: number | null, chunkname: Uint8Array): number;
    };
    lualib: {
      luaL_openlibs(L: LuaState): void;
    };
  };
  export default fengari;
}
