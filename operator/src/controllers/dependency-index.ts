/**
 * Which resources reference which Secrets, so a Secret change re-reconciles exactly its users. Secrets are
 * namespaced and references never cross namespaces, so entries are keyed by `namespace/secretName`.
 */
export class SecretUsers {
  readonly #users = new Map<string, Set<string>>();
  readonly #uses = new Map<string, string[]>();

  /** Records the Secrets `resourceKey` (`namespace/name`) references, replacing what it referenced before. */
  set(resourceKey: string, namespace: string, secretNames: readonly string[]): void {
    this.remove(resourceKey);
    const keys = secretNames.map((s) => `${namespace}/${s}`);
    this.#uses.set(resourceKey, keys);
    for (const k of keys) {
      let users = this.#users.get(k);
      if (users === undefined) this.#users.set(k, (users = new Set()));
      users.add(resourceKey);
    }
  }

  remove(resourceKey: string): void {
    for (const k of this.#uses.get(resourceKey) ?? []) {
      const users = this.#users.get(k);
      users?.delete(resourceKey);
      if (users?.size === 0) this.#users.delete(k);
    }
    this.#uses.delete(resourceKey);
  }

  usersOf(namespace: string, secretName: string): string[] {
    return [...(this.#users.get(`${namespace}/${secretName}`) ?? [])].sort();
  }
}
