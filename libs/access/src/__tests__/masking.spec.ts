import { maskAddress, maskDate, maskName, maskPhone, maskValue } from '../masking';

/** The masked formats of DOMAIN.md §6, as departments not entitled to a field in clear receive them. */
describe('masking', () => {
  it('keeps the surname and, for names of three or more characters, the last character', () => {
    expect(maskName('张')).toBe('*');
    expect(maskName('张三')).toBe('张*');
    expect(maskName('张三丰')).toBe('张*丰');
    expect(maskName('王小二明')).toBe('王**明');
  });

  it('keeps a compound surname (复姓) whole, but never a two-character name whole', () => {
    expect(maskName('欧阳建明')).toBe('欧阳*明');
    expect(maskName('欧阳明')).toBe('欧阳*');
    expect(maskName('诸葛孔明')).toBe('诸葛*明');
    expect(maskName('欧阳')).toBe('欧*');
    // Not a compound surname: only the first character is kept.
    expect(maskName('欧建明')).toBe('欧*明');
  });

  it('masks phones, addresses, birth dates and ID numbers', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('1234567')).toBe('*******');
    expect(maskAddress('海曙区望春街道12号3单元501室')).toBe('海曙区望春街道12号***');
    expect(maskDate('1950-03-04')).toBe('1950-**-**');
    expect(maskValue('Resident.idNumber', '330203195003041234')).toBe('3302**********1234');
  });

  it('answers null for a sensitive field without a masked form, and passes null through', () => {
    expect(maskValue('Resident.somethingElse', 'x')).toBeNull();
    expect(maskValue('Resident.name', null)).toBeNull();
    expect(maskValue('Resident.name', 42)).toBeNull();
  });
});
