import { createHash } from "node:crypto";

/** The weight of `member` for `uid`: the first 8 bytes of SHA-256 over both, as an unsigned integer. */
function weight(member: string, uid: string): bigint {
  return createHash("sha256").update(member).update("\0").update(uid).digest().readBigUInt64BE(0);
}

/**
 * The member that forwards destination `uid`: rendezvous (highest random weight) hashing. Every replica computes
 * the same owner from the same member set, and a member joining or leaving moves only the destinations it wins or
 * held. Undefined when there are no members.
 */
export function ownerOf(uid: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const member of members) {
    const w = weight(member, uid);
    // Ties (practically impossible) go to the smaller name, so every replica still agrees.
    if (w > bestWeight || (w === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}
