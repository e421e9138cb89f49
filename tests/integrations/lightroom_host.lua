--[[ Stands in for Lightroom Classic's SDK around EnlightenFilterProvider.lua (a macOS Lightroom: WIN_ENV false).

The export filter is driven as Lightroom drives a post-process action: its filterSettings callback sees the
export settings, each rendition is "rendered" (the file given on the command line), and the command really
runs. What the provider tells Lightroom is written to stdout as tab-separated lines.

Usage: lua lightroom_host.lua PLUGIN_DIR EXECUTABLE STRENGTH FORMAT RENDERED_FILE
]]

local plugin, executable, strength, format, rendered = arg[1], arg[2], tonumber(arg[3]), arg[4], arg[5]

local function emit(...)
  print(table.concat({...}, "\t"))
end

WIN_ENV, MAC_ENV = false, true
local sdk = {
  LrTasks = {execute = function(command)
    emit("execute", command)
    local first, how, code = os.execute(command)
    if type(first) == "number" then return first end  -- Lua 5.1: system()'s status already
    return how == "exit" and code * 256 or code          -- Lua 5.4: rebuilt as system() returns it
  end},
  LrView = {bind = function(key) return {bind = key} end},
}
function import(name)
  return assert(sdk[name], "the provider imports an SDK module the stand-in lacks: " .. name)
end

local info = dofile(plugin .. "/Info.lua")
assert(info.LrExportFilterProvider.file == "EnlightenFilterProvider.lua")
local provider = dofile(plugin .. "/" .. info.LrExportFilterProvider.file)

local defaults = {}
for _, field in ipairs(provider.exportPresetFields) do defaults[field.key] = field.default end
emit("default", "strength", tostring(defaults.enlighten_strength))

-- The dialog section, built with a view factory whose every widget is the table it was given.
local factory = setmetatable({}, {__index = function(_, kind)
  return function(_, fields) fields.kind = kind; return fields end
end})
local section = provider.sectionForFilterInDialog(factory, {})
emit("section", section.title, section[1][2].kind, section[1][2].value.bind, section[2][2].value.bind)

local exportSettings = {LR_format = format, LR_export_bitDepth = 8}
local renditionToSatisfy = {
  renditionIsDone = function(self, success, message) emit("done", tostring(success), message or "") end,
}
local sourceRendition = {waitForRender = function(self) return rendered ~= "-", rendered end}
local filterContext = {
  propertyTable = {enlighten_strength = strength, enlighten_executable = executable},
  renditions = function(self, options)
    options.filterSettings(renditionToSatisfy, exportSettings)
    emit("render", exportSettings.LR_format, tostring(exportSettings.LR_export_bitDepth))
    local given = false
    return function()
      if given then return nil end
      given = true
      return sourceRendition, renditionToSatisfy
    end
  end,
}
provider.postProcessRenderedPhotos({}, filterContext)
emit("finished")
