-- Eval runs that may have lost their job (Redis keeps queues in memory): queued or running since before
-- p_before, across tenants. The worker's recovery job asks this once a minute instead of visiting every
-- tenant; it gets ids only, and works on each run under that run's tenant scope.
CREATE INDEX "eval_runs_unfinished_created_at_idx" ON "eval_runs"("created_at") WHERE "status" IN ('queued', 'running');

CREATE FUNCTION quarry_eval_unfinished_runs(p_before timestamptz, p_limit integer)
    RETURNS TABLE (tenant_id uuid, run_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT r.tenant_id, r.id FROM eval_runs r
        WHERE r.status IN ('queued', 'running') AND r.created_at < p_before
        ORDER BY r.created_at LIMIT least(greatest(p_limit, 1), 1000)
    $$;
REVOKE ALL ON FUNCTION quarry_eval_unfinished_runs(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quarry_eval_unfinished_runs(timestamptz, integer) TO quarry_app;
