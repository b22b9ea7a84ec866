-- Argo CD health check for trailkeeper.dev LogForwardingDestination and RecordingStorage (the same script for both).
-- Reads status in kstatus order: deletion, observedGeneration, Reconciling, Stalled, then Ready.
-- Lua 5.1 (gopher-lua, as embedded in Argo CD): no goto, integer division or bitwise operators.
local hs = {}

local function findCondition(conditions, conditionType)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function describe(condition, fallback)
  local message = condition.message
  if message == nil or message == "" then
    message = fallback
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason .. ": " .. message
  end
  return message
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted"
  return hs
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile"
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local conditions = obj.status.conditions
local reconciling = findCondition(conditions, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "Testing the new generation")
  return hs
end

local stalled = findCondition(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Needs a change by a person")
  return hs
end

local ready = findCondition(conditions, "Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Ready describes generation " .. ready.observedGeneration .. ", not " .. generation
  return hs
end

local delivering = findCondition(conditions, "Delivering")
if ready.status == "True" and delivering ~= nil and delivering.status == "False" then
  -- Reachable, but refusing or failing what it is sent (docs/crds.md, the Delivering condition).
  hs.status = "Degraded"
  hs.message = describe(delivering, "Not delivering")
elseif ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
elseif ready.status == "False" and ready.reason == "Disabled" then
  hs.status = "Suspended"
  hs.message = describe(ready, "Disabled (spec.enabled is false)")
elseif ready.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(ready, "Not ready")
else
  hs.status = "Progressing"
  hs.message = describe(ready, "Readiness unknown")
end
return hs
