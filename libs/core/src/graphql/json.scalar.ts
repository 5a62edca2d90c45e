import { GraphQLScalarType, Kind, ValueNode } from 'graphql';

function literalToValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalToValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalToValue(f.value)]));
    default:
      throw new TypeError(`JSON literals cannot contain ${node.kind}`);
  }
}

/** A JSON object, used for tag attributes (validated against the tag's JSON schema, not by GraphQL). */
export const JSONObjectScalar = new GraphQLScalarType({
  name: 'JSONObject',
  description: 'A JSON object; its shape is validated by the server (for tags: the tag definition\'s attribute schema).',
  serialize: (value) => value,
  parseValue: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('JSONObject must be an object');
    return value;
  },
  parseLiteral: (node) => {
    if (node.kind !== Kind.OBJECT) throw new TypeError('JSONObject must be an object');
    return literalToValue(node);
  },
});
