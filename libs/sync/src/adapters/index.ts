import { AdapterFactory } from './adapter';
import { restAdapterFactory } from './rest.adapter';
import { soapAdapterFactory } from './soap.adapter';
import { fileBatchAdapterFactory } from './file-batch.adapter';
import { sqlStagingAdapterFactory } from './sql-staging.adapter';
import { xmlPackageAdapterFactory } from './xml-package.adapter';

/** Every supported protocol. A new legacy system speaking one of these needs only a target file. */
export const ADAPTER_FACTORIES = new Map<string, AdapterFactory>(
  [restAdapterFactory, soapAdapterFactory, fileBatchAdapterFactory, sqlStagingAdapterFactory, xmlPackageAdapterFactory].map((f) => [f.protocol, f]),
);

export * from './adapter';
