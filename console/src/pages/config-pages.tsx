/** The Log Forwarding and Recording Storage pages, loaded on first use (config-routes.tsx) so Audit Logs stays small. */
import type { ComponentChildren } from "preact";
import type { ConsoleSession } from "../api/types.ts";
import type { ConfigPath } from "./config-routes.tsx";
import { DestinationPage } from "./log-forwarding/DetailPage.tsx";
import { DestinationFormPage } from "./log-forwarding/FormPage.tsx";
import { LogForwardingListPage } from "./log-forwarding/ListPage.tsx";
import { RecordingStoragePage } from "./recording-storage/RecordingStoragePage.tsx";

export function ConfigPage({ route, session }: { route: ConfigPath; session: ConsoleSession }): ComponentChildren {
  switch (route.page) {
    case "list":
      return <LogForwardingListPage session={session} />;
    case "new":
      return <DestinationFormPage session={session} />;
    case "storage":
      return <RecordingStoragePage session={session} />;
    case "edit":
      return <DestinationFormPage key={`${route.namespace}/${route.name}/edit`} session={session} namespace={route.namespace} name={route.name} />;
    case "detail":
      return <DestinationPage key={`${route.namespace}/${route.name}`} session={session} namespace={route.namespace} name={route.name} />;
  }
}
