export * from './importer.module';
export * from './import.service';
export * from './import-error';
export * from './mapping';
export * from './sources';
export * from './report';
export * from './pg-copy';
