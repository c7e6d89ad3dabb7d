// What the consumer needs to judge a project's events: its active rules compiled into a type-
// indexed rule set (with their notification templates), and the project's suppression defaults.
// Cached per project and rebuilt when the rules version moves (see engine/cache.ts).
import { createVersionedCache, type VersionedCache } from '../engine/cache.js';
import { compileCondition, type CompiledCondition } from '../engine/compile.js';
import { buildRuleSet, type RuleSet } from '../engine/ruleset.js';
import { limitOf, type SuppressionLimit } from '../engine/suppression.js';
import { compileTemplate, type CompiledTemplate } from '../engine/template.js';
import type { DomainDeps } from '../domain/deps.js';
import { opensAlert } from '../domain/alerting/rule-alert.js';
import { loadActiveRules, type RuleView } from '../domain/rules.js';

export interface PipelineRule extends RuleView {
  titleTemplate: CompiledTemplate;
  bodyTemplate: CompiledTemplate;
  limit: SuppressionLimit;
  /** Set when the rule opens alerts: its dedup key and resolveWhen, compiled. */
  alerting: { dedupKey: CompiledTemplate; resolveWhen: CompiledCondition | null } | null;
}

export interface ProjectRules {
  ruleSet: RuleSet<PipelineRule>;
  /** The rules that open alerts: every event is also checked against their resolveWhen. */
  alertRules: PipelineRule[];
}

/** A resolveWhen that no longer compiles resolves nothing (it was checked on save). */
function resolveWhenOf(source: string | null | undefined): CompiledCondition | null {
  try {
    return source ? compileCondition(source) : null;
  } catch {
    return null;
  }
}

/** Templates are checked on save; one that no longer compiles is sent as written. */
function templateOf(source: string): CompiledTemplate {
  try {
    return compileTemplate(source);
  } catch {
    return { source, render: () => source };
  }
}

export async function loadProjectRules(
  deps: Pick<DomainDeps, 'db' | 'projects'>,
  projectId: string,
): Promise<ProjectRules> {
  const [rules, settings] = await Promise.all([
    loadActiveRules(deps, projectId),
    deps.projects.settings(projectId),
  ]);
  const defaults = settings.suppression;
  const compiled = rules.map((rule) => ({
    ...rule,
    titleTemplate: templateOf(rule.title),
    bodyTemplate: templateOf(rule.body),
    limit: limitOf(rule, defaults),
    alerting: opensAlert(rule)
      ? {
          dedupKey: templateOf(rule.alert?.dedupKey ?? ''),
          resolveWhen: resolveWhenOf(rule.alert?.resolveWhen),
        }
      : null,
  }));
  return { ruleSet: buildRuleSet(compiled), alertRules: compiled.filter((rule) => rule.alerting) };
}

/** Rebuilt after `rules.changed` (or a version check), and after `project.changed` (settings). */
export function createProjectRulesCache(
  deps: Pick<DomainDeps, 'db' | 'projects' | 'redis' | 'keys' | 'bus'>,
  options = { checkEveryMs: 1_000 },
): VersionedCache<ProjectRules> {
  const cache = createVersionedCache<ProjectRules>({
    readVersion: async (projectId) => Number((await deps.redis.get(deps.keys.rulesVersion(projectId))) ?? 0),
    load: (projectId) => loadProjectRules(deps, projectId),
    checkEveryMs: options.checkEveryMs,
  });
  deps.bus.on('rules.changed', (message) => cache.invalidate(message.projectId, message.version));
  deps.bus.on('project.changed', (message) => cache.invalidate(message.projectId));
  return cache;
}
