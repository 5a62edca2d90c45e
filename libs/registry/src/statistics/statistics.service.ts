import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, RequestContext } from '@linli/core';
import { ResidentFilter } from '../dtos/inputs';
import { ResidentsService } from '../residents/residents.service';
import { TagsService, ruleSql } from '../tags/tags.service';
import { StatisticsDimension, StatisticsResultDto } from './statistics.dto';
import { cellsToSuppress, isSmallCell } from './suppression';

const AGE = `date_part('year', age(current_date, r.birth_date))`;

/**
 * Aggregated counts over the register, inside the jurisdiction and with the same filters as `residents`.
 * A department asks for numbers instead of asking communities to fill in forms.
 */
@Injectable()
export class StatisticsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly residents: ResidentsService,
    private readonly tags: TagsService,
  ) {}

  async statistics(ctx: RequestContext, groupBy: StatisticsDimension[], filter: ResidentFilter | null | undefined): Promise<StatisticsResultDto> {
    if (groupBy.length === 0 || groupBy.length > 3 || new Set(groupBy).size !== groupBy.length) {
      throw DomainError.badInput('groupBy', '请选择 1 到 3 个不同的分组维度', 'Choose 1 to 3 different dimensions');
    }
    const params: unknown[] = [];
    const where = this.residents.filterSql(ctx, filter ?? {}, params);
    const joins: string[] = [];
    const exprs = groupBy.map((d) => {
      switch (d) {
        case StatisticsDimension.COMMUNITY: return 'r.community_code';
        case StatisticsDimension.TOWNSHIP: return `substr(r.community_code, 1, 9) || '000'`;
        case StatisticsDimension.SEX: return 'r.sex';
        case StatisticsDimension.POPULATION_TYPE: return 'r.population_type';
        case StatisticsDimension.AGE_BAND:
          return `CASE WHEN ${AGE} < 15 THEN '0-14' WHEN ${AGE} < 60 THEN '15-59' WHEN ${AGE} < 80 THEN '60-79' ELSE '80+' END`;
        case StatisticsDimension.HOUSEHOLD_KIND:
          joins.push(`LEFT JOIN household_member hm ON hm.resident_id = r.id AND hm.to_date IS NULL LEFT JOIN household h ON h.id = hm.household_id`);
          return `COALESCE(h.kind, 'NONE')`;
        case StatisticsDimension.TAG: {
          // Manual tags and derived ones, limited to the tags this principal may see.
          const visible = this.tags.listDefinitions().filter((t) => t.subject === 'RESIDENT' && (ctx.access.tags === null || ctx.access.tags.has(t.code)));
          const parts = visible.filter((t) => t.derivation === 'MANUAL').length
            ? [`SELECT rt.tag_code FROM resident_tag rt WHERE rt.resident_id = r.id AND rt.valid_to IS NULL AND rt.tag_code = ANY($${params.push(visible.filter((t) => t.derivation === 'MANUAL').map((t) => t.code))})`]
            : [];
          for (const t of visible.filter((x) => x.derivation === 'RULE')) {
            params.push(t.code);
            const codeParam = `$${params.length}`;
            parts.push(`SELECT ${codeParam}::text WHERE ${ruleSql(t.rule!, 'r', params)}`);
          }
          joins.push(parts.length ? `JOIN LATERAL (${parts.join(' UNION ALL ')}) tg(tag_code) ON TRUE` : 'JOIN LATERAL (SELECT NULL::text WHERE FALSE) tg(tag_code) ON TRUE');
          return 'tg.tag_code';
        }
        default: {
          const unknown: never = d;
          throw new Error(`unknown dimension ${String(unknown)}`);
        }
      }
    });
    const select = exprs.map((e, i) => `${e} AS k${i}`).join(', ');
    const groups = exprs.map((_, i) => `k${i}`).join(', ');
    const rows: Record<string, string | number>[] = await this.dataSource.query(
      `SELECT ${select}, count(*)::int AS n FROM resident r ${joins.join(' ')} WHERE ${where} GROUP BY ${groups} ORDER BY ${groups}`,
      params,
    );
    const totalParams: unknown[] = [];
    const [{ n: total }] = await this.dataSource.query(`SELECT count(*)::int AS n FROM resident r WHERE ${this.residents.filterSql(ctx, filter ?? {}, totalParams)}`, totalParams);
    const min = ctx.access.minStatisticsCell;
    const counts = rows.map((row) => ({ keys: groupBy.map((_, i) => String(row[`k${i}`])), count: Number(row.n) }));
    const withheld = cellsToSuppress(counts, groupBy.map((d) => d !== StatisticsDimension.TAG), min);
    return {
      dimensions: groupBy,
      suppressedBelow: min,
      total: isSmallCell(total, min) ? null : total,
      cells: counts.map((c, i) => ({ keys: c.keys, count: withheld.has(i) ? null : c.count, suppressed: withheld.has(i) })),
    };
  }
}
