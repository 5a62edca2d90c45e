import { Type } from '@nestjs/common';
import { Field, Int, ObjectType } from '@nestjs/graphql';
import { DomainError } from '../errors/domain-error';

@ObjectType('PageInfo')
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field() hasPreviousPage: boolean;
  @Field(() => String, { nullable: true }) startCursor: string | null;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Builds a Relay connection type `XConnection` with `XEdge` for a node type. */
export function ConnectionType<T>(nodeType: Type<T>, name: string): Type<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field() cursor: string;
    @Field(() => nodeType) node: T;
  }

  @ObjectType(`${name}Connection`, { isAbstract: false })
  class ConnectionClass {
    @Field(() => [EdgeType]) edges: EdgeType[];
    @Field(() => PageInfo) pageInfo: PageInfo;
    @Field(() => Int, { description: 'Rows matching the filter, across all pages.' }) totalCount: number;
  }
  return ConnectionClass as Type<Connection<T>>;
}

/** Cursors are opaque to clients: base64url of the keyset value. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || encodeCursor(key) !== cursor) {
    throw DomainError.badInput(field, '分页游标无效', 'The pagination cursor is invalid');
  }
  return key;
}

export function checkPageSize(first: number, max: number, field = 'first'): void {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw DomainError.badInput(field, `每页条数须在 1 到 ${max} 之间`, `Page size must be between 1 and ${max}`, { max });
  }
}

/** Given `first + 1` rows fetched in key order, builds the connection. */
export function toConnection<T>(rows: T[], first: number, keyOf: (row: T) => string, totalCount: number, hadCursor: boolean): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ node, cursor: encodeCursor(keyOf(node)) }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: hadCursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
