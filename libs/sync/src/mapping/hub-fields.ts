/** The fields a target file may map from: the hub's flat view of a resident (see record-view.ts). */
export const HUB_FIELDS = new Set([
  'id', 'version', 'idType', 'idNumber', 'name', 'formerName', 'sex', 'birthDate', 'ethnicity', 'politicalStatus', 'education', 'maritalStatus',
  'employment', 'phone', 'populationType', 'householdRelation', 'status', 'communityCode', 'communityName', 'townshipName', 'districtCode',
  'deceasedOn', 'movedOutOn',
  'household.number', 'household.kind', 'household.relationship', 'household.registeredAddress', 'household.headIdNumber', 'household.headName',
  'household.memberCount',
  'residence.address', 'residence.street', 'residence.doorNumber', 'residence.compound', 'residence.building', 'residence.unit', 'residence.room',
  'residence.kind', 'residence.movedInOn',
  'spouse.idNumber', 'spouse.name', 'spouse.ethnicity', 'children.boys', 'children.girls',
]);

/** `tag.<CODE>` (holds the tag) and `tag.<CODE>.<attribute>` are hub fields too. */
export function isHubField(name: string): boolean {
  return HUB_FIELDS.has(name) || /^tag\.[A-Z0-9_]+(\.[A-Za-z0-9_]+)?$/.test(name);
}
