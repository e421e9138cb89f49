--[[ Stands in for darktable (and the lua-scripts libraries lib/dtutils*) around integrations/darktable/enlighten.lua.

Only the host API is faked: commands really run through os.execute, files are really moved, and what the
script asks of darktable (import, group, tags, messages) is written to stdout as tab-separated lines.

Usage: lua5.4 darktable_host.lua SCRIPT EXECUTABLE MODE STRENGTH ROLL_DIR RAW_NAME EXPORTED_FILE
]]

local script, executable, mode, strength, roll, raw_name, exported = table.unpack(arg)

local function emit(...)
  print(table.concat({...}, "\t"))
end

local function split(path)
  return path:match("^(.*)/([^/]*)$")
end

local function new_image(path)
  local folder, name = split(path)
  local image = {path = folder, filename = name, rating = 0, tags = {}}
  image.group_leader = image
  function image.group_with(self, leader)
    emit("group", self.path .. "/" .. self.filename, leader.path .. "/" .. leader.filename)
  end
  return image
end

local prefs = {}
local storage = nil
local dt = {
  configuration = {running_os = "linux", config_dir = roll, tmp_dir = roll},
  gettext = {dgettext = function(_, text) return text end},
  preferences = {
    register = function(module, name, kind, label, tooltip, default)
      local key = module .. "/" .. name
      if prefs[key] == nil then prefs[key] = default end  -- a value the user set is kept
    end,
    read = function(module, name, kind)
      local value = prefs[module .. "/" .. name]
      if value == nil then return kind == "integer" and 0 or "" end
      return value
    end,
    write = function(module, name, kind, value) prefs[module .. "/" .. name] = value end,
  },
  new_widget = function(kind) return function(fields) fields.kind = kind; return fields end end,
  register_storage = function(name, label, store, finalize, supported, initialize, widget)
    storage = {name = name, finalize = finalize, supported = supported, widget = widget}
  end,
  destroy_storage = function(name) end,
  print = function(message) emit("print", message) end,
  print_error = function(message) emit("error", message) end,
  -- What C's system() returns on Linux: the wait status, exit code in the high byte. Lua built for POSIX
  -- (Debian's lua5.4) decodes it into an exit code below 256; other builds (lupa's) pass it through raw.
  control = {execute = function(command)
    emit("command", command)
    local _, how, code = os.execute(command)
    local decoded = how == "exit" and code < 256
    return decoded and code * 256 or code
  end},
  database = {import = function(path) emit("import", path); return new_image(path) end},
  tags = {
    get_tags = function(image) return image.tags end,
    attach = function(tag, image) emit("tag", tag.name, image.path .. "/" .. image.filename) end,
  },
}

package.preload["darktable"] = function() return dt end
package.preload["lib/dtutils"] = function() return {check_min_api_version = function() return true end} end
package.preload["lib/dtutils.file"] = function()
  local function exists(path) local f = io.open(path, "rb"); if f then f:close() end; return f ~= nil end
  return {
    sanitize_filename = function(path) return "'" .. path:gsub("'", "'\\''") .. "'" end,
    get_basename = function(path) return (select(2, split(path)):gsub("%.[^.]*$", "")) end,
    get_filetype = function(path) return path:match("%.([^./]*)$") end,
    create_unique_filename = function(path)
      local stem, ext, n = path:match("^(.*)%.([^.]*)$"), path:match("%.([^.]*)$"), 1
      while exists(path) do path = string.format("%s_%02d.%s", stem, n, ext); n = n + 1 end
      return path
    end,
    file_move = function(from, to) return os.rename(from, to) end,
  }
end
package.preload["lib/dtutils.system"] = function()
  return {external_command = function(command) return dt.control.execute(command) end}
end

prefs["enlighten_desktop/executable"] = executable
local script_data = dofile(script)
assert(type(script_data.destroy) == "function")
emit("supported", tostring(storage.supported(storage, {extension = "tif"})),
     tostring(storage.supported(storage, {extension = "exr"})))

-- The user's choices in the export target's options, then darktable's export of one selected raw.
storage.widget[1].selected = mode == "review" and 2 or 1
storage.widget[2].value = tonumber(strength)
local original = new_image(roll .. "/" .. raw_name)
original.rating = 4
original.tags = {{name = "darktable|format|nef"}, {name = "Trips|Lisbon"}}
storage.finalize(storage, {[original] = exported}, {})
