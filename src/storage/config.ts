import { Type, type Static } from '@sinclair/typebox';
import { section } from '../config/types-common.js';

/**
 * The top-level `storage` section of the gateway config. Kept beside the store so the backend and its
 * settings change together; src/config/schema.ts only places it.
 */
export const StorageConfigSchema = section(
  {
    backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], {
      description: 'Where consumers and credentials live: "sqlite" (one file, one machine) or "postgres" (shared by many gateways)',
      default: 'sqlite',
    }),
    sqlite: section(
      {
        path: Type.String({
          description: 'Database file, relative to the config file\'s folder; the folder is created when missing',
          default: './data/portcullis.db',
          minLength: 1,
        }),
      },
      'The embedded SQLite backend (WAL mode)',
    ),
    postgres: section(
      {
        url: Type.String({
          description: 'Connection URL, postgres://user:password@host:port/database',
          default: 'postgres://postgres@127.0.0.1:5432/portcullis',
          pattern: '^postgres(ql)?://',
          secret: true,
        }),
        poolSize: Type.Integer({ description: 'Connections per gateway process', minimum: 1, maximum: 200, default: 10 }),
        schema: Type.String({
          description: 'Schema holding the tables (created when missing)',
          default: 'public',
          pattern: '^[a-z_][a-z0-9_]{0,62}$',
        }),
      },
      'The PostgreSQL backend',
    ),
  },
  'Durable storage for consumers and credentials',
);

export type StorageConfig = Static<typeof StorageConfigSchema>;
