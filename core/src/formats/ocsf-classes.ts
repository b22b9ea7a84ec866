import type { CategoryId } from "../events/categories.ts";

/**
 * Which OCSF 1.3.0 class and activity each Trailkeeper action becomes: the category (and for some the action's
 * prefix) picks the class, the verb in the action's last words picks the activity, 99 "Other" when no verb fits.
 * The table is repeated in docs/forwarding.md.
 */

export type OcsfClassName = "authentication" | "account_change" | "group_management" | "user_access" | "entity_management" | "api_activity";

export interface OcsfClass {
  name: OcsfClassName;
  uid: number;
  caption: string;
  categoryUid: number;
  categoryName: string;
  /** Activity id by verb; anything else is 99 Other. */
  activities: Partial<Record<Verb, [number, string]>>;
}

export const ocsfVerbs = [
  "create", "read", "update", "delete", "logon", "logoff", "enable", "disable", "grant", "revoke", "add", "remove",
  "lock", "password_change", "password_reset", "mfa_enable", "mfa_disable", "move", "suspend", "resume",
] as const;
export type Verb = (typeof ocsfVerbs)[number];

const iam = { categoryUid: 3, categoryName: "Identity & Access Management" };
const crud: OcsfClass["activities"] = { create: [1, "Create"], read: [2, "Read"], update: [3, "Update"], delete: [4, "Delete"] };

export const ocsfClasses: Record<OcsfClassName, OcsfClass> = {
  authentication: { name: "authentication", uid: 3002, caption: "Authentication", ...iam, activities: { logon: [1, "Logon"], logoff: [2, "Logoff"] } },
  account_change: {
    name: "account_change", uid: 3001, caption: "Account Change", ...iam,
    activities: { create: [1, "Create"], enable: [2, "Enable"], password_change: [3, "Password Change"], password_reset: [4, "Password Reset"], disable: [5, "Disable"], suspend: [5, "Disable"], delete: [6, "Delete"], grant: [7, "Attach Policy"], revoke: [8, "Detach Policy"], lock: [9, "Lock"], mfa_enable: [10, "MFA Factor Enable"], mfa_disable: [11, "MFA Factor Disable"] },
  },
  group_management: {
    name: "group_management", uid: 3006, caption: "Group Management", ...iam,
    activities: { grant: [1, "Assign Privileges"], revoke: [2, "Revoke Privileges"], add: [3, "Add User"], remove: [4, "Remove User"], delete: [5, "Delete"], create: [6, "Create"] },
  },
  user_access: { name: "user_access", uid: 3005, caption: "User Access Management", ...iam, activities: { grant: [1, "Assign Privileges"], revoke: [2, "Revoke Privileges"] } },
  entity_management: {
    name: "entity_management", uid: 3004, caption: "Entity Management", ...iam,
    activities: { ...crud, move: [5, "Move"], enable: [8, "Enable"], disable: [9, "Disable"], suspend: [12, "Suspend"], resume: [13, "Resume"] },
  },
  api_activity: { name: "api_activity", uid: 6003, caption: "API Activity", categoryUid: 6, categoryName: "Application Activity", activities: crud },
};

/** Words of action names, by the verb they express (checked from the last word backwards). */
const verbWords: [Verb, RegExp][] = [
  ["logon", /^(login|signin|logon)$/],
  ["logoff", /^(logout|signout|logoff)$/],
  ["mfa_enable", /^mfa_(enable|enabled|enroll|enrolled)$/],
  ["mfa_disable", /^mfa_(disable|disabled|unenroll|unenrolled)$/],
  ["password_change", /^password_(change|changed|update|updated)$/],
  ["password_reset", /^password_(reset)$/],
  ["create", /^(create|created|invite|invited|issue|issued|generate|generated|register|registered|upload|uploaded)$/],
  ["delete", /^(delete|deleted|destroy|destroyed|purge|purged)$/],
  ["read", /^(read|reveal|revealed|view|viewed|get|list|export|exported|download|downloaded|access|accessed|search|copy|copied)$/],
  ["grant", /^(grant|granted|assign|assigned|attach|attached)$/],
  ["revoke", /^(revoke|revoked|unassign|unassigned|detach|detached)$/],
  ["add", /^(add|added|join|joined)$/],
  ["remove", /^(remove|removed|leave|left|kick|kicked)$/],
  ["enable", /^(enable|enabled|activate|activated|unlock|unlocked)$/],
  ["disable", /^(disable|disabled|deactivate|deactivated)$/],
  ["lock", /^(lock|locked)$/],
  ["suspend", /^(suspend|suspended)$/],
  ["resume", /^(resume|resumed|restore|restored)$/],
  ["move", /^(move|moved|transfer|transferred)$/],
  ["update", /^(update|updated|change|changed|edit|edited|set|rotate|rotated|rename|renamed|reset|configure|configured)$/],
];

/** The verb of an action: `user.password_reset` → password_reset, `team.member.add` → add. */
export function verbOf(action: string): Verb | undefined {
  const segments = action.split(".").slice(1).reverse();
  for (const segment of segments) {
    for (const [verb, pattern] of verbWords) if (pattern.test(segment)) return verb;
    for (const word of segment.split(/[_-]/).reverse()) for (const [verb, pattern] of verbWords) if (pattern.test(word)) return verb;
  }
  return undefined;
}

const prefixOf = (action: string) => action.slice(0, action.indexOf("."));

/** The class of an action; api_activity is the fallback for categories no IAM class describes. */
export function ocsfClassOf(category: CategoryId, action: string): OcsfClass {
  const prefix = prefixOf(action);
  const verb = verbOf(action);
  switch (category) {
    case "auth":
      return ocsfClasses.authentication;
    case "users":
      return prefix === "team" ? ocsfClasses.group_management : ocsfClasses.account_change;
    case "permissions":
      if (prefix === "group") return ocsfClasses.group_management;
      return verb === "grant" || verb === "revoke" ? ocsfClasses.user_access : ocsfClasses.entity_management;
    case "api_keys":
    case "secrets":
    case "resources":
    case "domains":
    case "alerts":
    case "settings":
      return ocsfClasses.entity_management;
    case "sessions":
    case "network":
    case "billing":
    case "audit":
      return ocsfClasses.api_activity;
  }
}

export function ocsfActivityOf(cls: OcsfClass, action: string): [number, string] {
  const verb = verbOf(action);
  return (verb === undefined ? undefined : cls.activities[verb]) ?? [99, "Other"];
}
