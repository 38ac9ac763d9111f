-- Argo CD health check for apps/StatefulSet with zoneferry (docs/gitops.md#argo-cd).
-- Install it as `resource.customizations.health.apps_StatefulSet` in argocd-cm
-- (gitops/argocd-cm-patch.yaml carries this very text; test/gitops/argocd-health.test.ts runs it).
--
-- A custom check for a kind replaces Argo CD's built-in one for every object of that kind, so this
-- script does the built-in StatefulSet check itself (`rollout_health` below, the same rules as
-- Argo CD's own: spec observed, replicas ready, rollout done) and adds zoneferry's status only for
-- a StatefulSet that carries a request (`zoneferry.io/target-zones` or `zoneferry.io/status`):
--
--   Pending, Running, RollingBack   Progressing, with the step and message
--   RollbackFailed                  Degraded until a person clears zoneferry.io/status
--   Failed, request still in Git    Degraded; removing zoneferry.io/target-zones acknowledges it
--   Failed, request removed         the StatefulSet's own health (a cancel ends this way too)
--   Succeeded                       the StatefulSet's own health; with work left by hand
--                                   ("all steps done but ...") its message says so
--   anything else                   the StatefulSet's own health

local function count(value)
  if type(value) == "number" then return value end
  return 0
end

-- Argo CD's built-in rules for apps/v1 StatefulSet, in order. Only Lua's base library is used:
-- Argo CD runs a custom check in gopher-lua (Lua 5.1) with the base, table and a safe os library
-- open, not the string library (unless useOpenLibs), and its numbers are floats, hence tostring().
local function rollout_health(sts)
  local spec = sts.spec or {}
  local status = sts.status or {}
  local generation = count((sts.metadata or {}).generation)
  local observed = count(status.observedGeneration)
  if observed == 0 or generation > observed then
    return "Progressing", "Waiting for statefulset spec update to be observed..."
  end
  local ready = count(status.readyReplicas)
  local updated = count(status.updatedReplicas)
  if spec.replicas ~= nil and ready < spec.replicas then
    return "Progressing", "Waiting for " .. tostring(spec.replicas - ready) .. " pods to be ready..."
  end
  local strategy = spec.updateStrategy or {}
  local kind = strategy.type or "RollingUpdate"
  if kind == "RollingUpdate" and strategy.rollingUpdate ~= nil then
    local partition = strategy.rollingUpdate.partition
    if spec.replicas ~= nil and partition ~= nil and updated < spec.replicas - partition then
      return "Progressing", "Waiting for partitioned roll out to finish: " .. tostring(updated) .. " out of " .. tostring(spec.replicas - partition) .. " new pods have been updated..."
    end
    return "Healthy", "partitioned roll out complete: " .. tostring(updated) .. " new pods have been updated..."
  end
  if kind == "OnDelete" then
    return "Healthy", "statefulset has " .. tostring(ready) .. " ready pods"
  end
  local current = status.currentRevision or ""
  local wanted = status.updateRevision or ""
  if wanted ~= current then
    return "Progressing", "waiting for statefulset rolling update to complete " .. tostring(updated) .. " pods at revision " .. wanted .. "..."
  end
  return "Healthy", "statefulset rolling update complete " .. tostring(count(status.currentReplicas)) .. " pods at revision " .. current .. "..."
end

-- "zoneferry Running (step create-disks): step create-disks" says the step once.
local function described(phase, step, message)
  local text = "zoneferry " .. phase
  if step ~= nil and step ~= "" then text = text .. " (step " .. step .. ")" end
  if message ~= nil and message ~= "" and message ~= "step " .. (step or "") then text = text .. ": " .. message end
  return text
end

local hs = {}
local annotations = (obj.metadata or {}).annotations or {}
local request = annotations["zoneferry.io/target-zones"]
local phase = annotations["zoneferry.io/status"]
local step = annotations["zoneferry.io/step"]
local message = annotations["zoneferry.io/message"] or ""
local own_status, own_message = rollout_health(obj)

if request == nil and phase == nil then
  hs.status = own_status
  hs.message = own_message
  return hs
end

if phase == "Pending" or phase == "Running" or phase == "RollingBack" then
  hs.status = "Progressing"
  hs.message = described(phase, step, message)
  return hs
end

if phase == "RollbackFailed" then
  hs.status = "Degraded"
  hs.message = described(phase, step, message) .. " (needs a person: do what the message says, then remove zoneferry.io/status)"
  return hs
end

if phase == "Failed" and request ~= nil then
  hs.status = "Degraded"
  hs.message = described(phase, step, message) .. " (rolled back; set a new zoneferry.io/retry to try again, or remove zoneferry.io/target-zones to acknowledge)"
  return hs
end

-- Succeeded says "all steps done", or "all steps done but <step>, which could not finish: ..."
-- when something is left to do by hand (runner/saga/checkpoint.ts).
if phase == "Succeeded" and message ~= "" and message ~= "all steps done" then
  hs.status = own_status
  hs.message = "zoneferry Succeeded, with work left by hand: " .. message .. "; " .. own_message
  return hs
end

hs.status = own_status
hs.message = own_message
return hs
