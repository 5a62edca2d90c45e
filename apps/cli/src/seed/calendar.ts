/** Dates as whole UTC days since 1970-01-01, for fast arithmetic while generating synthetic data. */

const DAY_MS = 86_400_000;

export function dayOf(iso: string): number {
  return Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / DAY_MS;
}

export function isoOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function yearOf(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The same calendar day `years` later (or earlier); 29 February becomes 28 February in common years. */
export function addYears(day: number, years: number): number {
  const d = new Date(day * DAY_MS);
  const year = d.getUTCFullYear() + years;
  const month = d.getUTCMonth();
  let date = d.getUTCDate();
  if (month === 1 && date === 29 && !isLeap(year)) date = 28;
  return Date.UTC(year, month, date) / DAY_MS;
}

/** Age in whole years on `onDay` of someone born on `birthDay`. */
export function ageOn(birthDay: number, onDay: number): number {
  const b = new Date(birthDay * DAY_MS);
  const o = new Date(onDay * DAY_MS);
  let age = o.getUTCFullYear() - b.getUTCFullYear();
  if (o.getUTCMonth() < b.getUTCMonth() || (o.getUTCMonth() === b.getUTCMonth() && o.getUTCDate() < b.getUTCDate())) age--;
  return age;
}

export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && isoOf(dayOf(value)) === value;
}
