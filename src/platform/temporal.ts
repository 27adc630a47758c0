/**
 * Connections to Temporal, and the one-time registration of Steward's search attributes.
 */
import { Client, Connection, type WorkflowClientInterceptor } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { allSearchAttributes } from '../contracts.js';

/** `workflowInterceptors`: e.g. the tracing interceptors (src/platform/tracing.ts), so a started run continues the caller's trace. */
export async function connectClient(address: string, namespace: string, workflowInterceptors: WorkflowClientInterceptor[] = []): Promise<Client> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  return new Client({ connection, namespace, interceptors: { workflow: workflowInterceptors } });
}

/** Adds Steward's search attributes to the namespace if they are missing (idempotent). */
export async function registerSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const custom = existing.customAttributes ?? {};
    const missing = allSearchAttributes.filter((key) => !(key.name in custom));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
    });
  } finally {
    await connection.close();
  }
}
